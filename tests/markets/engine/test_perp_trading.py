"""Stage B of issue 14: perp orders, positions, margin, oracle guards, mark, funding, halt."""

from __future__ import annotations

from typing import Any

import pytest

from markets.engine import Engine, RejectReason
from markets.engine import commands as C
from markets.engine import events as E

from .conftest import ok, rej
from .perp_helpers import FAST, USD, perp_spec, perp_totals

M = "BTC-PERP"


def of(evs: list[Any], cls: type) -> list[Any]:
    return [e for e in evs if isinstance(e, cls)]


@pytest.fixture
def cross() -> Engine:
    """A graduated perp; alice long 10 @ 1000 against bob, both cross with 100,000 USD each."""
    eng = Engine(FAST)
    ok(eng, perp_spec())
    ok(eng, C.SetRiskClass(1, M, "cross_eligible"))
    for who in ("alice", "bob"):
        ok(eng, C.DepositCredit(1, f"d-{who}", who, USD, 100_000))
    ok(eng, C.PlaceOrder(2, "bob", M, "sell", 1000, 10))
    evs = ok(eng, C.PlaceOrder(3, "alice", M, "buy", 1000, 10, tif="ioc"))
    assert [(t.price, t.size) for t in of(evs, E.Trade)] == [(1000, 10)]
    return eng


def test_fill_opens_positions_with_cash(cross: Engine) -> None:
    a, b = cross.perp.position("alice", M), cross.perp.position("bob", M)
    assert a is not None and b is not None
    assert (a.size, a.cash, a.mode) == (10, -10_000, "cross")
    assert (b.size, b.cash, b.mode) == (-10, 10_000, "cross")
    assert cross.perp.markets[M].long_oi == 10
    assert perp_totals(cross) == {USD: 200_000}


def test_mark_is_the_median_and_profit_is_weighted(cross: Engine) -> None:
    pm, m = cross.perp.markets[M], cross.markets[M]
    assert cross.perp.mark(pm, m, 3) == 1000  # last-trade average only
    ok(cross, C.OraclePrice(10, M, 1000, "push:0xoraclekey"))
    ok(cross, C.OraclePrice(2_510, M, 1010, "push:0xoraclekey"))
    assert cross.perp.mark(pm, m, 2_510) == 1005  # oracle 1010 and trade average 1000: floor of the mean
    ok(cross, C.PlaceOrder(2_511, "bob", M, "buy", 990, 1))
    ok(cross, C.PlaceOrder(2_511, "bob", M, "sell", 1030, 1))
    assert cross.perp.mark(pm, m, 2_511) == 1010  # median of 1000, 1010 (mid) and 1010 (oracle)
    # alice: unrealised +100, counted at 80 %; initial 10 % and maintenance 5 % of 10,100, rounded up
    assert cross.perp.cross_margin(cross, "alice", USD, 2_511) == (100_080, 1_010, 505)
    # stale after 10 s: the mark falls back to the book and the trades
    assert cross.perp.mark(pm, m, 2_510 + 10_001) == 1005
    assert cross.perp.liquidations_paused(pm, 2_510 + 10_001)


def test_free_collateral_bounds_withdrawals_and_transfers(cross: Engine) -> None:
    # bob: equity 100,000, needs 1,000 initial (10 % of 10 x 1000)
    assert cross.perp.free_collateral(cross, "bob", USD, 5) == 99_000
    assert rej(cross, C.WithdrawRequest(5, "w1", "bob", USD, 99_001, 100)) == RejectReason.INSUFFICIENT_BALANCE
    assert rej(cross, C.SubaccountTransfer(5, "bob", "bob:1", USD, 99_001)) == RejectReason.INSUFFICIENT_BALANCE
    ok(cross, C.SubaccountTransfer(5, "bob", "bob:1", USD, 99_000))
    # the sub-account is another domain: its collateral does not margin bob's position
    assert cross.perp.free_collateral(cross, "bob", USD, 5) == 0


def test_pre_trade_check_counts_the_worst_case(cross: Engine) -> None:
    # buying above the mark (1000, the trade average) counts the immediate loss: 1 lot at 1,100
    # needs initial 100 (10 % of 1 x 1000) + 100 lost at once
    ok(cross, C.DepositCredit(4, "d-dan", "dan", USD, 199))
    assert rej(cross, C.PlaceOrder(4, "dan", M, "buy", 1100, 1)) == RejectReason.INSUFFICIENT_MARGIN
    ok(cross, C.DepositCredit(4, "d-dan2", "dan", USD, 1))
    ok(cross, C.PlaceOrder(4, "dan", M, "buy", 1100, 1))
    ok(cross, C.CancelAll(4, "dan"))
    ok(cross, C.DepositCredit(4, "d-carol", "carol", USD, 1_100))
    # 10 lots at 1000: initial 1,000 + fee 0 fits 1,100; a further resting 1 lot buy does not
    ok(cross, C.PlaceOrder(5, "carol", M, "buy", 1000, 10))
    assert rej(cross, C.PlaceOrder(5, "carol", M, "buy", 1000, 2)) == RejectReason.INSUFFICIENT_MARGIN
    ok(cross, C.PlaceOrder(5, "carol", M, "buy", 1000, 1))  # 1,100 exactly
    # a sell only reduces the worst case: always allowed
    ok(cross, C.PlaceOrder(5, "carol", M, "sell", 5000, 5))


def test_open_interest_caps() -> None:
    eng = Engine(FAST)
    ok(eng, perp_spec(oi_cap=15, account_oi_cap=10))
    ok(eng, C.SetRiskClass(1, M, "cross_eligible"))
    for who in ("a", "b", "c"):
        ok(eng, C.DepositCredit(1, f"d-{who}", who, USD, 10**9))
    assert rej(eng, C.PlaceOrder(2, "a", M, "sell", 100, 11)) == RejectReason.OI_CAP_EXCEEDED
    ok(eng, C.PlaceOrder(2, "a", M, "sell", 100, 10))
    ok(eng, C.PlaceOrder(2, "b", M, "buy", 100, 10, tif="ioc"))
    ok(eng, C.PlaceOrder(2, "c", M, "sell", 100, 5))
    assert rej(eng, C.PlaceOrder(2, "c", M, "buy", 90, 6)) == RejectReason.OI_CAP_EXCEEDED  # c's buy: a 6 lot long
    ok(eng, C.PlaceOrder(2, "b", M, "sell", 100, 5, tif="ioc"))  # b reduces: never capped


def test_reduce_only(cross: Engine) -> None:
    assert rej(cross, C.PlaceOrder(5, "alice", M, "buy", 1000, 1, tif="ioc", reduce_only=True)) == (
        RejectReason.REDUCE_ONLY_WOULD_INCREASE
    )
    assert rej(cross, C.PlaceOrder(5, "alice", M, "sell", 1000, 11, tif="ioc", reduce_only=True)) == (
        RejectReason.REDUCE_ONLY_WOULD_INCREASE
    )
    assert rej(cross, C.PlaceOrder(5, "alice", M, "sell", 1000, 1, reduce_only=True)) == RejectReason.INVALID_FIELD
    ok(cross, C.PlaceOrder(5, "bob", M, "buy", 1100, 4))
    evs = ok(cross, C.PlaceOrder(6, "alice", M, "sell", 1000, 4, tif="ioc", reduce_only=True))
    assert [(t.price, t.size) for t in of(evs, E.Trade)] == [(1100, 4)]
    a = cross.perp.position("alice", M)
    assert a is not None and (a.size, a.cash) == (6, -10_000 + 4_400)


def test_closing_realises_into_the_ledger(cross: Engine) -> None:
    ok(cross, C.PlaceOrder(5, "bob", M, "buy", 1100, 10))
    evs = ok(cross, C.PlaceOrder(6, "alice", M, "sell", 1100, 10, tif="ioc"))
    assert [(r.account, r.amount, r.debt) for r in of(evs, E.PnlRealized)] == [("alice", 1_000, 0), ("bob", -1_000, 0)]
    assert cross.balance("alice", USD) == (101_000, 0)
    # bob went from short 10 @ 1000 to flat by buying at 1100: loses 1,000
    assert cross.balance("bob", USD) == (99_000, 0)
    assert perp_totals(cross) == {USD: 200_000}


def test_fees_come_from_cash_and_split() -> None:
    eng = Engine(FAST)
    ok(eng, perp_spec(maker_fee_bps=-2, taker_fee_bps=5, deployer_fee_share_bps=5_000))
    ok(eng, C.SetRiskClass(1, M, "cross_eligible"))
    for who in ("a", "b"):
        ok(eng, C.DepositCredit(1, f"d-{who}", who, USD, 10**6))
    ok(eng, C.PlaceOrder(2, "a", M, "sell", 1001, 10))
    [t] = of(ok(eng, C.PlaceOrder(2, "b", M, "buy", 1001, 10, tif="ioc")), E.Trade)
    # notional 10,010: taker ceil(5.005) = 6, maker rebate floor(2.002) = 2; net 4, half to the deployer
    assert (t.taker_fee, t.maker_fee) == (6, -2)
    assert eng.balance("sys:deployer:0xdeployer", USD) == (2, 0) and eng.balance("sys:protocol", USD) == (2, 0)
    a, b = eng.perp.position("a", M), eng.perp.position("b", M)
    assert a is not None and b is not None and (a.cash, b.cash) == (10_012, -10_016)
    assert perp_totals(eng) == {USD: 2 * 10**6}


# -- oracle guards ---------------------------------------------------------------------------


def test_oracle_guards(cross: Engine) -> None:
    src = "push:0xoraclekey"
    assert rej(cross, C.OraclePrice(10, M, 1000, "push:0xmallory")) == RejectReason.ORACLE_SOURCE_MISMATCH
    assert rej(cross, C.OraclePrice(10, M, 0, src)) == RejectReason.INVALID_PRICE
    ok(cross, C.OraclePrice(10, M, 1000, src))
    assert rej(cross, C.OraclePrice(2_509, M, 1000, src)) == RejectReason.ORACLE_TOO_SOON
    # a 50 % push is clamped to 1 % and flagged; liquidations pause until a clean push
    evs = ok(cross, C.OraclePrice(2_510, M, 1500, src))
    assert [(e.type, getattr(e, "price", None)) for e in evs] == [("oracle_price_set", 1010), ("oracle_guard", None)]
    assert of(evs, E.OraclePriceSet)[0].clamped and of(evs, E.OracleGuard)[0].reason == "clamped"
    pm = cross.perp.markets[M]
    assert cross.perp.liquidations_paused(pm, 2_510)
    evs = ok(cross, C.OraclePrice(5_010, M, 1015, src))
    assert not of(evs, E.OracleGuard) and not cross.perp.liquidations_paused(pm, 5_010)


def test_index_oracle_reads_another_market() -> None:
    eng = Engine(FAST)
    ok(eng, perp_spec("IDX"))
    ok(eng, perp_spec(oracle_source="index:IDX"))
    assert rej(eng, C.OraclePrice(2, M, 0, "index:IDX")) == RejectReason.INVALID_PRICE  # no index book
    ok(eng, C.DepositCredit(1, "d", "a", USD, 10**6))
    ok(eng, C.AdjustIsolatedMargin(2, "a", "IDX", 10_000))
    ok(eng, C.PlaceOrder(2, "a", "IDX", "buy", 99, 1))
    ok(eng, C.PlaceOrder(2, "a", "IDX", "sell", 102, 1))
    [ev] = ok(eng, C.OraclePrice(3, M, 0, "index:IDX"))
    assert ev.price == 100


# -- funding ----------------------------------------------------------------------------------


def test_funding_sums_to_zero_with_the_remainder_to_insurance(cross: Engine) -> None:
    assert rej(cross, C.FundingTick(3_600_000, M)) == RejectReason.FUNDING_NOT_DUE
    ok(cross, C.OraclePrice(3_600_001, M, 1010, "push:0xoraclekey"))
    evs = ok(cross, C.FundingTick(3_600_001, M))
    # mark (1010 + 1000) // 2 = 1005 is below the oracle: rate -floor(5 x 10^4 / 1010) = -49 bps, shorts pay
    # bob pays ceil(10,050 x 49 / 10^4) = ceil(49.245) = 50, alice receives floor(49.245) = 49
    assert [(e.account, e.amount) for e in of(evs, E.FundingPayment)] == [("alice", -49), ("bob", 50)]
    [s] = of(evs, E.FundingSettled)
    assert (s.rate_bps, s.mark, s.oracle, s.paid, s.received, s.to_insurance) == (-49, 1005, 1010, 50, 49, 1)
    assert cross.balance("sys:insurance:BTC-PERP", USD) == (1, 0)
    assert perp_totals(cross) == {USD: 200_000}


def test_funding_is_clamped_and_zero_when_stale(cross: Engine) -> None:
    evs = ok(cross, C.FundingTick(3_600_001, M))  # no oracle ever: rate 0 and a detector event
    assert of(evs, E.OracleGuard)[0].reason == "stale" and of(evs, E.FundingSettled)[0].rate_bps == 0
    ok(cross, C.PlaceOrder(3_600_002, "bob", M, "buy", 1200, 1))
    ok(cross, C.PlaceOrder(3_600_002, "bob", M, "sell", 1202, 1))
    ok(cross, C.OraclePrice(3_600_002, M, 1000, "push:0xoraclekey"))
    # mark = median(1000 oracle, 1201 mid, 1000 trades) = 1000 ... premium 0
    ok(cross, C.PlaceOrder(7_200_001, "alice", M, "buy", 1202, 1, tif="ioc"))  # trades avg (5 x ... ) moves up
    ok(cross, C.OraclePrice(7_200_001, M, 1000, "push:0xoraclekey"))
    evs = ok(cross, C.FundingTick(7_200_001, M))
    [s] = of(evs, E.FundingSettled)
    assert s.rate_bps == 50  # the premium (mark 1101 over 1000) is clamped at 50 bps
    assert s.paid - s.received == s.to_insurance >= 0


# -- isolation ----------------------------------------------------------------------------------


def test_new_market_is_isolated_and_loses_at_most_the_margin() -> None:
    eng = Engine(FAST)
    ok(eng, perp_spec())
    ok(eng, C.DepositCredit(1, "d-carol", "carol", USD, 10_000))
    for who in ("bob", "eve"):
        ok(eng, C.DepositCredit(1, f"d-{who}", who, USD, 100_000))
    # no cross in an isolated-only market; isolated needs its own margin first
    assert rej(eng, C.SetMarginMode(2, "carol", M, "cross")) == RejectReason.ISOLATED_ONLY
    assert rej(eng, C.PlaceOrder(2, "carol", M, "buy", 1000, 5)) == RejectReason.INSUFFICIENT_MARGIN
    ok(eng, C.AdjustIsolatedMargin(2, "carol", M, 1_000))
    for who in ("bob", "eve"):
        ok(eng, C.AdjustIsolatedMargin(2, who, M, 50_000))
    ok(eng, C.PlaceOrder(3, "bob", M, "sell", 1000, 5))
    ok(eng, C.PlaceOrder(3, "carol", M, "buy", 1000, 5, tif="ioc"))
    # the deployer's friends crash the price: the last five trades at 1 tick
    for ts in range(4, 9):
        ok(eng, C.PlaceOrder(ts, "bob", M, "sell", 1, 1))
        ok(eng, C.PlaceOrder(ts, "eve", M, "buy", 1, 1, tif="ioc"))
    assert eng.perp.mark(eng.perp.markets[M], eng.markets[M], 9) == 1
    evs = ok(eng, C.HaltMarket(9, M, "deployer"))
    carol = [e for e in of(evs, E.PositionSettled) if e.account == "carol"][0]
    assert (carol.size, carol.price) == (5, 1)
    # carol loses her 1,000 of margin and nothing else; the 3,995 beyond it is covered within the
    # halt by the winner, bob (short 5 from 1,000: profit 4,995), since the insurance fund is empty
    assert eng.balance("carol", USD) == (9_000, 0)
    pos = eng.perp.position("carol", M)
    assert pos is not None and (pos.size, pos.margin, pos.cash) == (0, 0, 0)
    assert [(e.account, e.profit, e.amount) for e in of(evs, E.HaltHaircut)] == [("bob", 4_995, 3_995)]
    [covered] = of(evs, E.HaltDebtCovered)
    assert (covered.debt, covered.from_insurance, covered.from_winners, covered.debt_left) == (3_995, 0, 3_995, 0)
    assert perp_totals(eng) == {USD: 210_000}


def test_adjust_isolated_margin_limits() -> None:
    eng = Engine(FAST)
    ok(eng, perp_spec())
    for who in ("a", "b"):
        ok(eng, C.DepositCredit(1, f"d-{who}", who, USD, 10_000))
    for who in ("a", "b"):
        ok(eng, C.AdjustIsolatedMargin(2, who, M, 2_000))
    assert rej(eng, C.AdjustIsolatedMargin(2, "a", M, 8_001)) == RejectReason.INSUFFICIENT_BALANCE
    ok(eng, C.PlaceOrder(3, "b", M, "sell", 1000, 10))
    ok(eng, C.PlaceOrder(3, "a", M, "buy", 1000, 10, tif="ioc"))
    # a needs 1,000 initial of its 2,000: 1,000 may leave, not 1,001
    assert rej(eng, C.AdjustIsolatedMargin(4, "a", M, -1_001)) == RejectReason.INSUFFICIENT_MARGIN
    [ev] = ok(eng, C.AdjustIsolatedMargin(4, "a", M, -1_000))
    assert (ev.amount, ev.margin) == (-1_000, 1_000)
    assert eng.balance("a", USD) == (9_000, 0)
    assert rej(eng, C.SetMarginMode(4, "a", M, "isolated")) == RejectReason.POSITION_OPEN
    assert rej(eng, C.AdjustIsolatedMargin(4, "a", M, 0)) == RejectReason.INVALID_AMOUNT


def test_cross_mode_in_graduated_market_and_mode_mismatch(cross: Engine) -> None:
    assert rej(cross, C.AdjustIsolatedMargin(5, "alice", M, 10)) == RejectReason.MARGIN_MODE_MISMATCH
    ok(cross, C.DepositCredit(5, "d-z", "zed", USD, 5_000))
    ok(cross, C.SetMarginMode(5, "zed", M, "isolated"))
    ok(cross, C.SetMarginMode(5, "zed", M, "cross"))
    assert rej(cross, C.SetMarginMode(5, "zed", M, "both")) == RejectReason.INVALID_FIELD


# -- halt ----------------------------------------------------------------------------------------


def test_halt_settles_every_position_at_the_mark_and_resume(cross: Engine) -> None:
    ok(cross, C.OraclePrice(10, M, 1000, "push:0xoraclekey"))
    ok(cross, C.OraclePrice(2_510, M, 1010, "push:0xoraclekey"))
    ok(cross, C.PlaceOrder(2_511, "bob", M, "sell", 1300, 1))
    evs = ok(cross, C.HaltMarket(2_512, M))
    # the mark at the halt, before the book is cleared: median(1010, mid absent, 1000) -> (1000+1010)//2
    assert [e.type for e in evs] == [
        "order_cancelled", "position_settled", "pnl_realized", "position_settled", "pnl_realized", "market_halted"
    ]  # fmt: skip
    assert {(e.account, e.size, e.price) for e in of(evs, E.PositionSettled)} == {
        ("alice", 10, 1005),
        ("bob", -10, 1005),
    }
    assert cross.balance("alice", USD) == (100_050, 0) and cross.balance("bob", USD) == (99_950, 0)
    assert cross.perp.markets[M].long_oi == 0
    assert rej(cross, C.ResumeMarket(2_513, "NOPE")) == RejectReason.UNKNOWN_MARKET
    ok(cross, C.ResumeMarket(2_513, M))
    assert rej(cross, C.ResumeMarket(2_514, M)) == RejectReason.HALT_REQUIRED
    ok(cross, C.PlaceOrder(2_514, "bob", M, "sell", 1000, 1))


def test_one_deposit_margins_a_perp_and_its_profit_frees_collateral(cross: Engine) -> None:
    # alice's 100,000 margins her long; a profit raises what she may withdraw (at the 80 % weight)
    before = cross.perp.free_collateral(cross, "alice", USD, 3)
    ok(cross, C.PlaceOrder(4, "bob", M, "buy", 1100, 1))
    ok(cross, C.PlaceOrder(4, "bob", M, "sell", 1102, 1))
    ok(cross, C.OraclePrice(4, M, 1100, "push:0xoraclekey"))
    # mark = median(1100, 1101, 1000) = 1100: the profit of 1,000 counts 800; initial rises by 100
    after = cross.perp.free_collateral(cross, "alice", USD, 4)
    assert (before, after) == (99_000, 99_700)
