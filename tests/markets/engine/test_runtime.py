"""The sequencer's garbage-collector policy: state frozen at start-up, collection only when the sequencer asks."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from markets.engine import Engine
from markets.engine import commands as C
from markets.engine.runtime import collect_garbage, start_sequencer_gc


@pytest.fixture
def restore_gc() -> Iterator[None]:
    yield
    gc.unfreeze()
    gc.enable()


@pytest.mark.usefixtures("restore_gc")
def test_start_sequencer_gc_freezes_the_state_and_stops_automatic_collection() -> None:
    # given: an engine with state, as after a restore
    eng = Engine()
    eng.apply(C.DepositCredit(1, "d1", "0xalice", "USDC", 10**6))
    # when
    start_sequencer_gc()
    # then: the state is out of the collector's reach, and only the sequencer starts a collection
    assert gc.get_freeze_count() > 0
    assert not gc.isenabled()
    assert eng.balance("0xalice", "USDC") == (10**6, 0)


@pytest.mark.usefixtures("restore_gc")
def test_collect_garbage_frees_cycles_made_since_and_freezes_what_lives() -> None:
    # given: collection off, and a reference cycle dropped after start-up (as persistence code may make)
    start_sequencer_gc()
    frozen = gc.get_freeze_count()
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    kept = [Engine()]
    # when
    found = collect_garbage()
    # then: the cycle was found and freed; what lives is frozen with the start-up state
    assert found >= 1
    assert gc.get_freeze_count() > frozen
    assert not gc.isenabled()
    assert kept[0].seq == 0
