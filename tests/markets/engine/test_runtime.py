"""The sequencer's start-up garbage-collector settings: collection stays on, only less often."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from markets.engine import Engine
from markets.engine import commands as C
from markets.engine.runtime import GC_GEN0_THRESHOLD, start_sequencer_gc


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restore_gc")
def test_start_sequencer_gc_freezes_the_state_and_raises_only_the_young_threshold() -> None:
    # given: an engine with state, as after a restore
    eng = Engine()
    eng.apply(C.DepositCredit(1, "d1", "0xalice", "USDC", 10**6))
    _, gen1, gen2 = gc.get_threshold()
    # when
    start_sequencer_gc()
    # then: the state is out of the collector's reach, and collection is still on
    assert gc.get_freeze_count() > 0
    assert gc.isenabled()
    assert gc.get_threshold() == (GC_GEN0_THRESHOLD, gen1, gen2)
    assert GC_GEN0_THRESHOLD > 700
