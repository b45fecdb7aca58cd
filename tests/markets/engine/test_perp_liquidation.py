"""Stage C of issue 14: liquidation steps, insurance fund, ADL, access policy."""

from __future__ import annotations

from typing import Any

from markets.engine import Engine, RejectReason
from markets.engine import commands as C
from markets.engine import events as E
from markets.engine.params import ProtocolParams

from .conftest import ok, rej
from .perp_helpers import USD, perp_spec, perp_totals

M = "BTC-PERP"
SRC = "push:0xoraclekey"
# oracle pushes may move 50 % (the default 1 % would take dozens of pushes to reach these prices)
LIQ = ProtocolParams(
    graduation_min_age_ms=0, graduation_min_bond=0, graduation_min_oi_lots=0, oracle_max_move_bps=5_000
)


def of(evs: list[Any], cls: type) -> list[Any]:
    return [e for e in evs if isinstance(e, cls)]


def _cross_long() -> Engine:
    eng = Engine(LIQ)
    ok(eng, perp_spec())
    ok(eng, C.SetRiskClass(1, M, "cross_eligible"))
    ok(eng, C.DepositCredit(1, "d-a", "alice", USD, 1_100))
    for who in ("bob", "mm"):
        ok(eng, C.DepositCredit(1, f"d-{who}", who, USD, 10**6))
    ok(eng, C.PlaceOrder(2, "bob", M, "sell", 1000, 10))
    ok(eng, C.PlaceOrder(2, "alice", M, "buy", 1000, 10, tif="ioc"))
    ok(eng, C.PlaceOrder(3, "alice", M, "sell", 2000, 1))  # a resting order, cancelled by the liquidation
    ok(eng, C.OraclePrice(10, M, 1000, SRC))
    return eng


def test_liquidation_closes_only_as_far_as_needed() -> None:
    eng = _cross_long()
    ok(eng, C.PlaceOrder(11, "mm", M, "buy", 920, 3))
    ok(eng, C.PlaceOrder(11, "mm", M, "buy", 900, 20))
    ok(eng, C.PlaceOrder(11, "mm", M, "sell", 940, 5))
    assert rej(eng, C.Liquidate(12, "alice")) == RejectReason.ABOVE_MAINTENANCE
    ok(eng, C.OraclePrice(2_510, M, 930, SRC))
    # mark = median(930 oracle, 930 mid, 1000 trades) = 930: equity 1,100 - 700 = 400 < maintenance 465
    assert eng.perp.cross_margin(eng, "alice", USD, 2_510) == (400, 930, 465)
    evs = ok(eng, C.Liquidate(2_510, "alice"))
    assert [e.type for e in evs][:2] == ["liquidation_started", "order_cancelled"]
    assert of(evs, E.OrderCancelled)[0].reason == "liquidation"
    # step 1: 930 x (500 - 50) bps frees 41 per lot; (465 - 400) / 41 -> 2 lots at 920, fee ceil(9.2) = 10
    # step 2: 1 more lot at 920 (fee ceil(4.6) = 5) restores maintenance
    assert [(e.size, e.fee) for e in of(evs, E.LiquidationStep)] == [(-2, 10), (-1, 5)]
    [fin] = of(evs, E.LiquidationFinished)
    assert fin.restored and fin.debt == 0 and fin.equity >= fin.maintenance
    pos = eng.perp.position("alice", M)
    assert pos is not None and pos.size == 7
    assert eng.balance("sys:insurance:BTC-PERP", USD) == (15, 0)
    assert perp_totals(eng) == {USD: 1_100 + 2 * 10**6}


def test_liquidation_pauses_while_the_oracle_is_in_doubt() -> None:
    eng = _cross_long()
    ok(eng, C.PlaceOrder(11, "mm", M, "buy", 400, 3))
    ok(eng, C.PlaceOrder(11, "mm", M, "sell", 500, 3))
    ok(eng, C.OraclePrice(2_510, M, 400, SRC))  # a 60 % drop: clamped to 500 and flagged
    assert eng.perp.markets[M].clamped
    assert rej(eng, C.Liquidate(2_510, "alice")) == RejectReason.LIQUIDATION_PAUSED
    assert rej(eng, C.Liquidate(20_000, "alice")) == RejectReason.LIQUIDATION_PAUSED  # stale by now


def test_isolated_shortfall_goes_to_insurance_then_adl() -> None:
    eng = Engine(ProtocolParams(oracle_max_move_bps=10_000))
    ok(eng, perp_spec())  # isolated-only
    for who, amount, margin in (("carol", 10_000, 1_000), ("bob", 100_000, 50_000), ("eve", 100_000, 50_000)):
        ok(eng, C.DepositCredit(1, f"d-{who}", who, USD, amount))
        ok(eng, C.AdjustIsolatedMargin(1, who, M, margin))
    ok(eng, C.PlaceOrder(2, "bob", M, "sell", 1000, 5))
    ok(eng, C.PlaceOrder(2, "carol", M, "buy", 1000, 5, tif="ioc"))
    for ts in range(3, 8):  # the last five trades at 1 tick
        ok(eng, C.PlaceOrder(ts, "bob", M, "sell", 1, 1))
        ok(eng, C.PlaceOrder(ts, "eve", M, "buy", 1, 1, tif="ioc"))
    ok(eng, C.OraclePrice(8, M, 1, SRC))
    ok(eng, C.PlaceOrder(8, "eve", M, "buy", 1, 5))
    evs = ok(eng, C.Liquidate(9, "carol", M))
    # carol sells 5 at 1: cash -5,000 + 5 - fee 1 = -4,996; margin 1,000 covers part, 3,996 is short;
    # the fund holds the 1 of fee: it pays 1; bob, the only profitable short, gives 3,995 by ADL
    assert [(e.size, e.fee) for e in of(evs, E.LiquidationStep)] == [(-5, 1)]
    assert [(e.account, e.amount) for e in of(evs, E.InsuranceCovered)] == [("carol", 1)]
    assert [(e.account, e.debtor, e.amount) for e in of(evs, E.Deleveraged)] == [("bob", "carol", 3_995)]
    [fin] = of(evs, E.LiquidationFinished)
    assert fin.debt == 0 and fin.restored
    assert eng.balance("carol", USD) == (9_000, 0)  # the isolated margin, and nothing else, is gone
    assert perp_totals(eng) == {USD: 210_000}


def test_access_policy_allowlist() -> None:
    eng = Engine(LIQ)
    ok(eng, perp_spec(access="allowlist"))
    ok(eng, C.SetRiskClass(1, M, "cross_eligible"))
    for who in ("0xa", "0xa:1", "0xb"):
        ok(eng, C.DepositCredit(1, f"d-{who}", who, USD, 10**6))
    assert rej(eng, C.SetAllowlist(2, M, "0xmallory", "0xa", True)) == RejectReason.NOT_DEPLOYER
    assert rej(eng, C.SetAllowlist(2, M, "0xdeployer", "0xa:1", True)) == RejectReason.INVALID_ACCOUNT
    ok(eng, C.SetAllowlist(2, M, "0xdeployer", "0xa", True))
    ok(eng, C.SetAllowlist(2, M, "0xdeployer", "0xb", True))
    ok(eng, C.PlaceOrder(3, "0xa:1", M, "sell", 100, 5))  # the wallet's sub-accounts follow it
    ok(eng, C.PlaceOrder(3, "0xb", M, "buy", 100, 5, tif="ioc"))
    [ev] = ok(eng, C.SetAllowlist(4, M, "0xdeployer", "0xb", False))
    assert (ev.wallet, ev.allowed) == ("0xb", False)
    assert rej(eng, C.PlaceOrder(5, "0xb", M, "buy", 100, 1)) == RejectReason.ACCESS_DENIED
    ok(eng, C.PlaceOrder(5, "0xa", M, "buy", 100, 2))
    ok(eng, C.PlaceOrder(5, "0xb", M, "sell", 100, 2, tif="ioc", reduce_only=True))  # reducing: always allowed
    pos = eng.perp.position("0xb", M)
    assert pos is not None and pos.size == 3
    open_market = Engine(LIQ)
    ok(open_market, perp_spec())
    assert rej(open_market, C.SetAllowlist(2, M, "0xdeployer", "0xa", True)) == RejectReason.INVALID_FIELD
