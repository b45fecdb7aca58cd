"""A slow, obviously correct reference margin calculator against the engine on 10,000 random portfolios.

The reference works from docs/engine.md alone, with exact rationals (``Fraction``) and an
explicit floor/ceil at each place the doc names one. Portfolios are written straight into
the engine's state (seeded ``random``, so the run is reproducible), then both sides name the
domains below maintenance.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

from markets.engine import Engine
from markets.engine import commands as C
from markets.engine.perp import Position

from .perp_helpers import FAST, USD, perp_spec

N_ENGINES = 100
DOMAINS_PER_ENGINE = 100  # 100 x 100 = 10,000 portfolios
MARKETS = ["P0", "P1", "P2", "P3", "P4"]
TS = 50_000
TIER_TEXT = "5000:1000:500,50000:1500:800,0:2500:1200"


def ref_tiers() -> list[tuple[int, int, int]]:
    return [tuple(int(x) for x in t.split(":")) for t in TIER_TEXT.split(",")]  # type: ignore[misc]


def ref_mark(oracle: int | None, bid: int | None, ask: int | None, trades: list[int]) -> int | None:
    xs = []
    if oracle is not None:
        xs.append(Fraction(oracle))
    if bid is not None and ask is not None:
        xs.append(Fraction(math.floor(Fraction(bid + ask, 2))))
    if trades:
        xs.append(Fraction(math.floor(Fraction(sum(trades), len(trades)))))
    if not xs:
        return None
    xs.sort()
    if len(xs) == 1:
        return int(xs[0])
    if len(xs) == 2:
        return math.floor((xs[0] + xs[1]) / 2)
    return int(xs[1])


def ref_mm(notional: int) -> int:
    for cap, _im, mm in ref_tiers():
        if cap == 0 or notional <= cap:
            return math.ceil(Fraction(notional * mm, 10_000))
    raise AssertionError


def ref_weighted(x: int, weight: int) -> int:
    return math.floor(Fraction(x * weight, 10_000)) if x > 0 else x


def test_liquidatable_domains_match_the_reference() -> None:
    rng = random.Random(20_261_125)
    checked = flagged = 0
    for _ in range(N_ENGINES):
        eng = Engine(FAST)
        weights = {}
        marks: dict[str, int | None] = {}
        for i, mid in enumerate(MARKETS):
            w = rng.choice([0, 5_000, 8_000, 10_000])
            weights[mid] = w
            eng.apply(
                perp_spec(mid, margin_tiers=TIER_TEXT, collateral_weight_bps=w, oi_cap=10**9, account_oi_cap=10**9)
            )
            pm, m = eng.perp.markets[mid], eng.markets[mid]
            oracle = rng.choice([None, rng.randint(50, 150)])
            if oracle is not None:
                pm.oracle, pm.oracle_ts = oracle, TS - rng.choice([0, 5_000, 10_000])
            pm.trades = [rng.randint(50, 150) for _ in range(rng.randint(0, 5))]
            bid = ask = None
            if rng.random() < 0.5:
                bid = rng.randint(50, 100)
                ask = bid + rng.randint(1, 50)
                eng.apply(C.DepositCredit(1, f"mm{i}", "mm", USD, 10**12))
                eng.apply(C.AdjustIsolatedMargin(1, "mm", mid, 10**11))
                eng.apply(C.PlaceOrder(1, "mm", mid, "buy", bid, 1))
                eng.apply(C.PlaceOrder(1, "mm", mid, "sell", ask, 1))
            marks[mid] = ref_mark(oracle, bid, ask, pm.trades)
            assert eng.perp.mark(pm, m, TS) == marks[mid]
        expected = set()
        for d in range(DOMAINS_PER_ENGINE):
            aid = f"d{d}"
            acct = eng._account(aid)
            collateral = rng.choice([0, 10, 1_000, 5_000, 20_000])
            acct.entry(USD).free = collateral
            cross_eq = collateral
            cross_mm = 0
            for mid in rng.sample(MARKETS, rng.randint(1, 5)):
                mode = rng.choice(["cross", "cross", "isolated"])
                size = rng.randint(-300, 300)
                mark = marks[mid]
                if mark is None:
                    size = 0
                    mark = 0
                entry = rng.randint(50, 150)
                cash = -size * entry + rng.randint(-500, 500)
                pos = Position(aid, mid, mode)
                pos.size, pos.cash = size, cash
                eng.perp.domains.setdefault(aid, {})[mid] = pos
                eng.perp.markets[mid].holders[aid] = pos
                upnl = cash + size * mark
                if mode == "cross":
                    cross_eq += ref_weighted(upnl, weights[mid])
                    cross_mm += ref_mm(abs(size) * mark)
                else:
                    pos.margin = rng.choice([0, 100, 2_000, 10_000])
                    if pos.margin + upnl < ref_mm(abs(size) * mark):
                        expected.add((aid, mid))
            if cross_eq < cross_mm:
                expected.add((aid, ""))
            checked += 1
        got = {x for x in eng.perp.under_maintenance(eng, TS) if x[0] != "mm"}
        assert got == expected
        flagged += len(expected)
    assert checked == 10_000
    assert 1_000 < flagged < 9_000, flagged  # the portfolios exercise both answers
