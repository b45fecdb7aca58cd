"""MarginIndex (the fast liquidation sweep) names the same domains as Perp.under_maintenance.

Positions here are written straight into the state, so each test builds its index afresh;
the index the engine keeps through commands is checked by the perp stateful test.
"""

from __future__ import annotations

import random

from markets.engine import Engine
from markets.engine import commands as C
from markets.engine.perp import Position
from markets.engine.sweep import MarginIndex

from .perp_helpers import FAST, USD, perp_spec

TS = 50_000


def _random_engine(rng: random.Random, n_markets: int, n_domains: int, scale: int = 1) -> Engine:
    """Random domains over ``n_markets`` perps; ``scale`` multiplies every tick, cap and balance."""
    eng = Engine(FAST)
    mids = [f"P{i}" for i in range(n_markets)]
    for mid in mids:
        eng.apply(
            perp_spec(
                mid,
                tick_size=scale,
                collateral_weight_bps=rng.choice([0, 5_000, 10_000]),
                margin_tiers=f"{5_000 * scale}:1000:500,0:2500:1200",
            )
        )
        pm = eng.perp.markets[mid]
        pm.oracle, pm.oracle_ts = rng.randint(50, 150), TS
        pm.trades = [rng.randint(50, 150)]
    # spot holdings count at mid x 50 %: the index reads them from the ledger
    eng.apply(C.LaunchMarket(1, "S-USD", "spot", "S", USD, scale, 1, 1, 0, 0, 0, "0xdep", collateral_weight_bps=5_000))
    eng.apply(C.DepositCredit(1, "mm-usd", "mm", USD, 10**6 * scale))
    eng.apply(C.DepositCredit(1, "mm-s", "mm", "S", 10**6))
    eng.apply(C.PlaceOrder(1, "mm", "S-USD", "buy", 90, 10))
    eng.apply(C.PlaceOrder(1, "mm", "S-USD", "sell", 110, 10))
    for d in range(n_domains):
        aid = f"d{d}"
        acct = eng._account(aid)
        acct.entry(USD).free = rng.choice([0, 500, 5_000]) * scale
        acct.entry("S").free = rng.choice([0, 0, 10, 100])
        for mid in rng.sample(mids, min(3, n_markets)):
            pos = Position(aid, mid, rng.choice(["cross", "cross", "isolated"]))
            pos.size = rng.randint(-100, 100)
            pos.cash = -pos.size * rng.randint(50, 150) * scale
            pos.margin = rng.choice([0, 1_000]) * scale if pos.mode == "isolated" else 0
            eng.perp.domains.setdefault(aid, {})[mid] = pos
            eng.perp.markets[mid].holders[aid] = pos
    return eng


def test_full_sweep_and_per_market_updates_match_the_engine() -> None:
    rng = random.Random(5)
    for _ in range(20):
        eng = _random_engine(rng, 5, 200)
        idx = MarginIndex(eng)
        assert idx.sweep(eng, TS) == eng.perp.under_maintenance(eng, TS)
        _ticks_match(rng, eng, idx, 5)


def _ticks_match(rng: random.Random, eng: Engine, idx: MarginIndex, n_markets: int) -> None:
    """Five marks moved one market at a time: each tick's list equals the naive sweep's."""
    for _ in range(5):
        mid = f"P{rng.randrange(n_markets)}"
        pm = eng.perp.markets[mid]
        pm.oracle = max(1, pm.oracle + rng.randint(-60, 60))
        pm.trades = [pm.oracle]
        assert idx.update_market(eng, mid, TS) == eng.perp.under_maintenance(eng, TS)


def test_values_beyond_64_bits_are_exact() -> None:
    # a collateral with 18 decimals: sizes x marks x ticks and balances near 10**22, far past
    # the compiled build's unboxed ints (2**62), so its sums take the exact big-int path
    rng = random.Random(7)
    for _ in range(10):
        eng = _random_engine(rng, 4, 100, scale=10**18)
        assert max(abs(p.cash) for pm in eng.perp.markets.values() for p in pm.holders.values()) > 2**64
        idx = MarginIndex(eng)
        found = idx.sweep(eng, TS)
        assert found == eng.perp.under_maintenance(eng, TS)
        assert found  # some domains are below maintenance: a real comparison
        _ticks_match(rng, eng, idx, 4)
        fresh = MarginIndex(eng)
        assert fresh.reprice(eng, idx.units(), TS) == idx.liquidatable(eng, TS)
        assert fresh.health() == idx.health()


def test_kept_index_through_growing_blocks_compaction_and_mode_changes() -> None:
    # one record changed at a time, as Perp reports them: new records in new markets (a
    # domain's block fills, moves, and the abandoned rows are compacted), sizes, cash,
    # margin, and modes flipped both ways; after each, the kept index equals a fresh build
    rng = random.Random(11)
    eng = _random_engine(rng, 8, 30)
    perp = eng.perp
    idx = MarginIndex(eng)
    idx.sweep(eng, TS)
    compactions = 0
    for step in range(1_500):
        aid, mid = f"d{rng.randrange(30)}", f"P{rng.randrange(8)}"
        pos = perp.domains[aid].get(mid)
        if pos is None:
            pos = Position(aid, mid, rng.choice(["cross", "cross", "isolated"]))
            perp.domains[aid][mid] = perp.markets[mid].holders[aid] = pos
        elif rng.random() < 0.2:
            pos.mode = "isolated" if pos.mode == "cross" else "cross"
        pos.size = rng.randint(-100, 100)
        pos.cash = -pos.size * rng.randint(50, 150)
        pos.margin = rng.choice([0, 1_000]) if pos.mode == "isolated" else 0
        abandoned = idx.abandoned
        idx.changed(pos)
        assert idx.abandoned >= abandoned  # a command never compacts: only maintain does
        if step % 7 == 0:
            compactions += idx.compact_if_due()
            assert idx.abandoned * 8 <= len(idx.mk)
        if step % 25 == 0:
            fresh = MarginIndex(eng)
            assert idx.rows() == fresh.rows()
            assert idx.liquidatable(eng, TS) == fresh.reprice(eng, idx.units(), TS)
            assert idx.health() == fresh.health()
            assert idx.sweep(eng, TS) == perp.under_maintenance(eng, TS)
    assert compactions > 0


def test_maintain_compacts_between_commands_and_changes_no_state() -> None:
    # given: an index whose blocks have moved until an eighth of its rows are abandoned
    rng = random.Random(5)
    eng = _random_engine(rng, 8, 30)
    perp = eng.perp
    # _random_engine writes positions around Perp, so the kept index is built afresh here
    idx = perp.index = MarginIndex(eng)
    idx.sweep(eng, TS)
    while idx.abandoned * 8 <= len(idx.mk):
        aid, mid = f"d{rng.randrange(30)}", f"P{rng.randrange(8)}"
        if mid not in perp.domains[aid]:
            pos = Position(aid, mid, "cross")
            perp.domains[aid][mid] = perp.markets[mid].holders[aid] = pos
            pos.size, pos.cash = 10, -1_000
            idx.changed(pos)
    rows, health, swept, before = idx.rows(), idx.health(), idx.sweep(eng, TS), eng.state_hash()
    # when: the sequencer is idle and calls maintain
    assert eng.maintain() is True
    # then: the abandoned rows are gone, the index says the same, and the state is untouched
    assert idx.abandoned == 0
    assert idx.rows() == rows and idx.health() == health
    assert idx.sweep(eng, TS) == swept == perp.under_maintenance(eng, TS)
    assert swept  # the thin new records put some domains below maintenance: a real comparison
    assert eng.state_hash() == before
    # and a second call finds nothing to do
    assert eng.maintain() is False
    assert Engine().maintain() is False  # no perp market, no index
