"""How the engine's process is run: the sequencer's garbage-collector policy (start-up, and now and then)."""

from __future__ import annotations

import gc

# Commands between two collections when the sequencer is never idle: bounds what foreign code in
# the process (persistence, the channel layer) can leave in reference cycles meanwhile.
COLLECT_EVERY = 100_000


def start_sequencer_gc() -> None:
    """Settle the garbage collector for a long-running engine process.

    Call once, after building or restoring the state (``Engine.restore``) and before applying
    commands. Everything alive then is long-lived, so it is moved out of the collector's reach
    (``gc.freeze``), and automatic collection is switched off: the engine makes no reference
    cycles (the stateful tests check it with ``assert_no_engine_cycles`` in
    tests/markets/engine/conftest.py), so reference counting frees all of its garbage, and an
    automatic collection would only walk the live resting orders again and again. The
    sequencer calls ``collect_garbage`` instead, when idle and at least every ``COLLECT_EVERY``
    commands.
    """
    gc.collect()
    gc.freeze()
    gc.disable()


def collect_garbage() -> int:
    """Free the reference cycles made since the last call (by code other than the engine), then
    put the survivors out of reach as at start-up, so each live object is walked once. Returns
    how many unreachable objects were found."""
    found = gc.collect()
    gc.freeze()
    return found
