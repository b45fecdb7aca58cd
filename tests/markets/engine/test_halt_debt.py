"""Halt settlement covers losers' debt within the halt: the market's insurance fund, then the
winners' settlement profits pro rata, exact to the minor unit; other markets are never touched."""

from __future__ import annotations

import json
from typing import Any

from markets.engine import Engine, insurance_account
from markets.engine import commands as C
from markets.engine import events as E
from markets.engine.params import ProtocolParams
from markets.engine.perp import _pro_rata

from .conftest import ok
from .perp_helpers import USD, perp_spec, perp_totals

M = "BTC-PERP"
SRC = "push:0xoraclekey"
P = ProtocolParams(graduation_min_age_ms=0, graduation_min_bond=0, graduation_min_oi_lots=0, oracle_max_move_bps=5_000)
OPS_HALT_EVENTS = {"HaltHaircut", "HaltDebtCovered"}


def of(evs: list[Any], cls: type) -> list[Any]:
    return [e for e in evs if isinstance(e, cls)]


def crashed(fund: int = 0, market: str = M) -> tuple[Engine, int]:
    """Isolated positions: carol long 5 @ 1,000 on 1,000 margin against bob (3) and eve (2); then
    the oracle and the book move to 500. At the halt carol's loss is 2,500: 1,000 margin, 1,500 debt.
    ``fund`` USD of bob's are moved into the market's insurance fund first (as if from earlier fees)."""
    eng = Engine(P)
    ok(eng, perp_spec(market))
    ok(eng, C.DepositCredit(1, "d-c", "carol", USD, 10_000))
    for who in ("bob", "eve", "mm"):
        ok(eng, C.DepositCredit(1, f"d-{who}", who, USD, 100_000))
    ok(eng, C.AdjustIsolatedMargin(2, "carol", market, 1_000))
    for who in ("bob", "eve", "mm"):
        ok(eng, C.AdjustIsolatedMargin(2, who, market, 50_000))
    ok(eng, C.PlaceOrder(3, "bob", market, "sell", 1_000, 3))
    ok(eng, C.PlaceOrder(3, "eve", market, "sell", 1_000, 2))
    ok(eng, C.PlaceOrder(3, "carol", market, "buy", 1_000, 5, tif="ioc"))
    ok(eng, C.OraclePrice(10, market, 1_000, SRC))
    ok(eng, C.OraclePrice(2_510, market, 500, SRC))
    ok(eng, C.PlaceOrder(2_510, "mm", market, "buy", 499, 1))
    ok(eng, C.PlaceOrder(2_510, "mm", market, "sell", 501, 1))
    assert eng.perp.mark(eng.perp.markets[market], eng.markets[market], 2_511) == 500  # median(500, 500, 1000)
    if fund:
        eng.accounts["bob"].bal[USD].free -= fund
        eng.accounts[insurance_account(market)].bal[USD].free += fund
    return eng, 310_000


def test_insurance_first_then_winners_pro_rata_with_exact_rounding() -> None:
    eng, total = crashed(fund=499)
    evs = ok(eng, C.HaltMarket(2_511, M, "deployer"))
    # debt 1,500: the fund's 499, then 1,001 from the winners' profits bob 1,500 and eve 1,000:
    # bob floor(1,001 x 1,500 / 2,500) = 600 (remainder 1,500), eve 400 (remainder 1,000); the one
    # unit left goes to the larger remainder: bob 601 + eve 400 = 1,001 exactly
    assert [(e.account, e.profit, e.amount) for e in of(evs, E.HaltHaircut)] == [
        ("bob", 1_500, 601),
        ("eve", 1_000, 400),
    ]
    assert [(e.account, e.amount) for e in of(evs, E.InsuranceCovered)] == [("carol", 1_500)]
    [summary] = of(evs, E.HaltDebtCovered)
    assert summary == E.HaltDebtCovered(summary.seq, M, 1_500, 499, 1_001, 0)
    assert [e.type for e in evs][-2:] == ["halt_debt_covered", "market_halted"]
    carol = eng.perp.position("carol", M)
    assert carol is not None and (carol.size, carol.cash, carol.margin) == (0, 0, 0)  # no debt left
    assert eng.balance(insurance_account(M), USD) == (0, 0)
    # winners keep margin + profit - haircut: bob 50,000 + 1,500 - 601, eve 50,000 + 1,000 - 400
    assert eng.balance("bob", USD) == (100_000 - 499 + 899, 0)
    assert eng.balance("eve", USD) == (100_000 + 600, 0)
    assert eng.balance("carol", USD) == (9_000, 0)
    assert perp_totals(eng) == {USD: total}


def test_no_fund_the_winners_cover_it_all() -> None:
    eng, total = crashed()
    evs = ok(eng, C.HaltMarket(2_511, M))
    # 1,500 x 1,500 / 2,500 = 900 and 1,500 x 1,000 / 2,500 = 600: no rounding needed
    assert [(e.account, e.amount) for e in of(evs, E.HaltHaircut)] == [("bob", 900), ("eve", 600)]
    [summary] = of(evs, E.HaltDebtCovered)
    assert (summary.debt, summary.from_insurance, summary.from_winners, summary.debt_left) == (1_500, 0, 1_500, 0)
    assert eng.balance("bob", USD) == (100_000 + 600, 0) and eng.balance("eve", USD) == (100_000 + 400, 0)
    assert perp_totals(eng) == {USD: total}


def test_a_big_fund_covers_it_alone_and_winners_keep_everything() -> None:
    eng, total = crashed(fund=2_000)
    evs = ok(eng, C.HaltMarket(2_511, M))
    assert of(evs, E.HaltHaircut) == []
    [summary] = of(evs, E.HaltDebtCovered)
    assert (summary.debt, summary.from_insurance, summary.from_winners, summary.debt_left) == (1_500, 1_500, 0, 0)
    assert eng.balance(insurance_account(M), USD) == (500, 0)
    assert eng.balance("eve", USD) == (101_000, 0)
    assert perp_totals(eng) == {USD: total}


def test_another_markets_fund_is_never_touched() -> None:
    eng, total = crashed()
    ok(eng, perp_spec("ETH-PERP", ts=2_511))
    eng.accounts["mm"].bal[USD].free -= 5_000
    eng.accounts[insurance_account("ETH-PERP")].bal[USD].free += 5_000
    evs = ok(eng, C.HaltMarket(2_511, M))
    assert eng.balance(insurance_account("ETH-PERP"), USD) == (5_000, 0)
    assert sum(e.amount for e in of(evs, E.HaltHaircut)) == 1_500
    assert perp_totals(eng) == {USD: total}


def test_a_halt_without_debt_emits_nothing_new() -> None:
    eng, _ = crashed()
    ok(eng, C.AdjustIsolatedMargin(2_511, "carol", M, 2_000))  # now her 3,000 margin covers the 2,500 loss
    evs = ok(eng, C.HaltMarket(2_511, M))
    assert not of(evs, E.HaltHaircut) and not of(evs, E.HaltDebtCovered) and not of(evs, E.InsuranceCovered)
    assert eng.balance("carol", USD) == (10_000 - 2_500, 0)


def test_pro_rata_split_is_exact_and_never_above_a_weight() -> None:
    # 10 over three equal weights of 5 (W = 15): floors 3, 3, 3; one unit left, equal remainders: lowest key
    assert _pro_rata(10, {"c": 5, "a": 5, "b": 5}) == {"a": 4, "b": 3, "c": 3}
    assert _pro_rata(7, {"a": 1, "b": 6}) == {"a": 1, "b": 6}  # all of it: each exactly its weight
    assert _pro_rata(1, {"a": 1, "b": 6}) == {"b": 1}
    assert _pro_rata(0, {"a": 3}) == {}


def test_events_round_trip_and_restore_hashes_the_same() -> None:
    eng, _ = crashed(fund=499)
    copy = Engine.restore(json.loads(json.dumps(eng.snapshot())), P)
    evs = eng.apply(C.HaltMarket(2_511, M))
    assert copy.apply(C.HaltMarket(2_511, M)) == evs
    assert copy.state_hash() == eng.state_hash()
    for ev in evs:
        assert E.from_dict(json.loads(json.dumps(E.to_dict(ev)))) == ev
