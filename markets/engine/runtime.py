"""How the engine's process is run: the cyclic garbage collector settings the sequencer applies at start-up."""

from __future__ import annotations

import gc

# Net container allocations between two youngest-generation collections (CPython's default is
# 700). Resting orders are containers (a level links its orders both ways), so every collection
# walks the orders placed since the last one; a larger budget lets the many orders filled or
# cancelled within it die unvisited, and walks the survivors in fewer, larger passes. Most
# garbage is freed at once by reference counting; the cycles (orders that left a level together
# still point at each other) wait for the next collection.
GC_GEN0_THRESHOLD = 50_000


def start_sequencer_gc() -> None:
    """Settle the garbage collector for a long-running engine process.

    Call once, after building or restoring the state (``Engine.restore``) and before applying
    commands: everything alive then is long-lived, so it is moved out of the collector's reach
    (``gc.freeze``), and the youngest generation's threshold is raised. Collection stays
    enabled; the older generations keep CPython's default thresholds.
    """
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)
