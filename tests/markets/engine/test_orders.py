"""Order types, matching and settlement with fixed expected fills and balances."""

from __future__ import annotations

from typing import Any

from markets.engine import PROTOCOL_FEE_ACCOUNT, Engine, deployer_fee_account
from markets.engine import commands as C
from markets.engine import events as E

from .conftest import BASE, MARKET, QUOTE, check_invariants, spot_spec

Q0 = 10_000_000  # initial quote per trader
B0 = 1_000_000  # initial base per trader
TOTALS = {QUOTE: 3 * Q0, BASE: 3 * B0}


def trades(evs: list[Any]) -> list[tuple[int, int, str, str]]:
    return [(e.price, e.size, e.maker_account, e.taker_account) for e in evs if isinstance(e, E.Trade)]


def cancels(evs: list[Any]) -> list[tuple[int, int, str]]:
    return [(e.order_id, e.remaining, e.reason) for e in evs if isinstance(e, E.OrderCancelled)]


def test_gtc_rests_and_reserves_quote(eng: Engine, place: Any) -> None:
    evs = place("alice", "buy", 100, 5)
    assert [type(e) for e in evs] == [E.OrderAccepted]
    # notional = price * size * tick = 100 * 5 * 10
    assert eng.balance("alice", QUOTE) == (Q0 - 5000, 5000)
    assert eng.depth(MARKET) == {"bids": [(100, 5)], "asks": []}
    check_invariants(eng, TOTALS)


def test_sell_reserves_base(eng: Engine, place: Any) -> None:
    place("bob", "sell", 100, 7)
    assert eng.balance("bob", BASE) == (B0 - 7 * 1000, 7000)
    check_invariants(eng, TOTALS)


def test_fill_at_maker_price_releases_price_improvement(eng: Engine, place: Any) -> None:
    place("bob", "sell", 100, 5)
    evs = place("alice", "buy", 105, 5)
    assert trades(evs) == [(100, 5, "bob", "alice")]
    assert eng.balance("alice", QUOTE) == (Q0 - 5000, 0)
    assert eng.balance("alice", BASE) == (B0 + 5000, 0)
    assert eng.balance("bob", QUOTE) == (Q0 + 5000, 0)
    assert eng.balance("bob", BASE) == (B0 - 5000, 0)
    assert eng.depth(MARKET) == {"bids": [], "asks": []}
    check_invariants(eng, TOTALS)


def test_partial_fill_then_rest(eng: Engine, place: Any) -> None:
    place("bob", "sell", 100, 3)
    evs = place("alice", "buy", 100, 5)
    t = [e for e in evs if isinstance(e, E.Trade)]
    assert [(x.size, x.taker_remaining, x.maker_remaining) for x in t] == [(3, 2, 0)]
    assert eng.depth(MARKET) == {"bids": [(100, 2)], "asks": []}
    assert eng.balance("alice", QUOTE) == (Q0 - 5000, 2000)
    check_invariants(eng, TOTALS)


def test_price_time_priority(eng: Engine, place: Any) -> None:
    place("bob", "sell", 100, 2)
    place("carol", "sell", 100, 2)
    place("bob", "sell", 99, 2)
    evs = place("alice", "buy", 100, 5)
    assert trades(evs) == [(99, 2, "bob", "alice"), (100, 2, "bob", "alice"), (100, 1, "carol", "alice")]
    assert eng.depth(MARKET) == {"bids": [], "asks": [(100, 1)]}
    check_invariants(eng, TOTALS)


def test_sell_taker_walks_bids_high_to_low(eng: Engine, place: Any) -> None:
    place("bob", "buy", 98, 2)
    place("carol", "buy", 99, 2)
    evs = place("alice", "sell", 98, 3)
    assert trades(evs) == [(99, 2, "carol", "alice"), (98, 1, "bob", "alice")]
    assert eng.balance("alice", QUOTE) == (Q0 + 99 * 2 * 10 + 98 * 10, 0)
    check_invariants(eng, TOTALS)


def test_ioc_remainder_cancelled(eng: Engine, place: Any) -> None:
    place("bob", "sell", 100, 2)
    evs = place("alice", "buy", 100, 5, tif="ioc")
    oid = evs[0].order_id
    assert trades(evs) == [(100, 2, "bob", "alice")]
    assert cancels(evs) == [(oid, 3, "ioc")]
    assert eng.depth(MARKET)["bids"] == []
    assert eng.balance("alice", QUOTE) == (Q0 - 2000, 0)
    check_invariants(eng, TOTALS)


def test_fok_fills_in_full(eng: Engine, place: Any) -> None:
    place("bob", "sell", 100, 2)
    place("carol", "sell", 101, 3)
    evs = place("alice", "buy", 101, 5, tif="fok")
    assert trades(evs) == [(100, 2, "bob", "alice"), (101, 3, "carol", "alice")]
    check_invariants(eng, TOTALS)


def test_fok_rejected_when_short(eng: Engine, place: Any) -> None:
    place("bob", "sell", 100, 2)
    before = eng.state_hash(include_seq=False)
    evs = place("alice", "buy", 101, 5, tif="fok")
    assert [(type(e), e.reason) for e in evs] == [(E.Rejected, "fok_cannot_fill")]
    assert eng.state_hash(include_seq=False) == before


def test_post_only_rests_as_maker(eng: Engine, place: Any) -> None:
    place("bob", "sell", 101, 2)
    evs = place("alice", "buy", 100, 5, tif="post_only")
    assert [type(e) for e in evs] == [E.OrderAccepted]
    assert eng.depth(MARKET) == {"bids": [(100, 5)], "asks": [(101, 2)]}
    check_invariants(eng, TOTALS)


def test_market_order_stops_at_protection_price(eng: Engine, place: Any) -> None:
    place("bob", "sell", 100, 3)
    place("bob", "sell", 101, 3)
    place("carol", "sell", 102, 10)
    evs = place("alice", "buy", 101, 10, order_type="market", tif="ioc")
    oid = evs[0].order_id
    assert trades(evs) == [(100, 3, "bob", "alice"), (101, 3, "bob", "alice")]
    assert cancels(evs) == [(oid, 4, "ioc")]
    assert eng.balance("alice", QUOTE) == (Q0 - 3000 - 3030, 0)
    check_invariants(eng, TOTALS)


def test_market_sell(eng: Engine, place: Any) -> None:
    place("bob", "buy", 100, 3)
    evs = place("alice", "sell", 1, 2, order_type="market", tif="ioc")
    assert trades(evs) == [(100, 2, "bob", "alice")]
    check_invariants(eng, TOTALS)


def test_stp_cancel_resting(eng: Engine, place: Any) -> None:
    own = place("alice", "sell", 100, 2)[0].order_id
    place("bob", "sell", 100, 2)
    evs = place("alice", "buy", 100, 2, stp="cancel_resting")
    assert cancels(evs) == [(own, 2, "self_trade")]
    assert trades(evs) == [(100, 2, "bob", "alice")]
    check_invariants(eng, TOTALS)


def test_stp_cancel_taking(eng: Engine, place: Any) -> None:
    place("bob", "sell", 99, 1)
    place("alice", "sell", 100, 2)
    evs = place("alice", "buy", 100, 5, stp="cancel_taking")
    oid = evs[0].order_id
    assert trades(evs) == [(99, 1, "bob", "alice")]
    assert cancels(evs) == [(oid, 4, "self_trade")]
    assert eng.depth(MARKET) == {"bids": [], "asks": [(100, 2)]}
    check_invariants(eng, TOTALS)


def test_stp_cancel_both(eng: Engine, place: Any) -> None:
    own = place("alice", "sell", 100, 2)[0].order_id
    place("bob", "sell", 100, 2)
    evs = place("alice", "buy", 100, 5, stp="cancel_both")
    oid = evs[0].order_id
    assert trades(evs) == []
    assert cancels(evs) == [(own, 2, "self_trade"), (oid, 5, "self_trade")]
    assert eng.depth(MARKET) == {"bids": [], "asks": [(100, 2)]}
    check_invariants(eng, TOTALS)


def test_cancel_by_id_and_client_id(eng: Engine, place: Any) -> None:
    a = place("alice", "buy", 100, 5)[0].order_id
    place("alice", "buy", 99, 5, client_id="c-1")
    evs = eng.apply(C.CancelOrder(3, "alice", order_id=a))
    assert cancels(evs) == [(a, 5, "user")]
    evs = eng.apply(C.CancelOrder(3, "alice", client_id="c-1"))
    assert [e.reason for e in evs] == ["user"]
    assert eng.balance("alice", QUOTE) == (Q0, 0)
    check_invariants(eng, TOTALS)


def test_cancel_all_per_market_and_everywhere(eng: Engine, place: Any) -> None:
    eng.apply(spot_spec("BTC-USDC", base_asset="BTC"))
    a1 = place("alice", "buy", 100, 1)[0].order_id
    a2 = eng.apply(C.PlaceOrder(2, "alice", "BTC-USDC", "buy", 50, 1))[0].order_id
    a3 = place("alice", "sell", 200, 1)[0].order_id
    evs = eng.apply(C.CancelAll(3, "alice", market_id=MARKET))
    assert [e.order_id for e in evs] == [a1, a3]
    evs = eng.apply(C.CancelAll(3, "alice"))
    assert [(e.order_id, e.reason) for e in evs] == [(a2, "cancel_all")]
    assert eng.balance("alice", QUOTE) == (Q0, 0)
    check_invariants(eng, TOTALS)


def test_resting_order_expires_when_met(eng: Engine, place: Any) -> None:
    old = place("bob", "sell", 100, 2, expiry_ts=10)[0].order_id
    place("carol", "sell", 101, 2)
    evs = place("alice", "buy", 101, 2, ts=10)
    assert cancels(evs) == [(old, 2, "expired")]
    assert trades(evs) == [(101, 2, "carol", "alice")]
    assert eng.balance("bob", BASE) == (B0, 0)
    check_invariants(eng, TOTALS)


def test_halt_cancels_and_refuses(eng: Engine, place: Any) -> None:
    place("alice", "buy", 100, 5)
    place("bob", "sell", 101, 5)
    evs = eng.apply(C.HaltMarket(3, MARKET, "oracle fault"))
    assert [type(e) for e in evs] == [E.OrderCancelled, E.OrderCancelled, E.MarketHalted]
    assert {e.reason for e in evs[:2]} == {"halt"}
    assert eng.balance("alice", QUOTE) == (Q0, 0)
    assert eng.balance("bob", BASE) == (B0, 0)
    assert place("alice", "buy", 100, 5, ts=4)[0].reason == "market_halted"
    check_invariants(eng, TOTALS)


def test_fees_rebate_and_deployer_share() -> None:
    # given a market with a 10 bps taker fee, a 2 bps maker rebate and a 25 % deployer share
    eng = Engine()
    eng.apply(spot_spec(tick_size=1, lot_size=1, maker_fee_bps=-2, taker_fee_bps=10, deployer_fee_share_bps=2500))
    eng.apply(C.DepositCredit(1, "d1", "alice", QUOTE, 1_000_000))
    eng.apply(C.DepositCredit(1, "d2", "bob", BASE, 1_000))
    # when bob rests 100 lots at 1000 and alice takes them in three fills of 33, 33, 34
    eng.apply(C.PlaceOrder(2, "bob", MARKET, "sell", 1000, 100))
    fills = []
    for size in (33, 33, 34):
        evs = eng.apply(C.PlaceOrder(3, "alice", MARKET, "buy", 1000, size, tif="ioc"))
        fills += [(e.taker_fee, e.maker_fee) for e in evs if isinstance(e, E.Trade)]
    # then each taker order pays ceil(notional * 10 / 10000); the maker rebate is floor(notional * 2 / 10000)
    assert fills == [(33, -6), (33, -6), (34, -6)]
    net = [t + m for t, m in fills]  # 27, 27, 28
    deployer = sum(x * 2500 // 10_000 for x in net)  # 6 + 6 + 7
    assert eng.balance(deployer_fee_account("0xdeployer"), QUOTE) == (deployer, 0)
    assert eng.balance(PROTOCOL_FEE_ACCOUNT, QUOTE) == (sum(net) - deployer, 0)
    assert eng.balance("alice", QUOTE) == (1_000_000 - 100_000 - 100, 0)
    assert eng.balance("bob", QUOTE) == (100_000 + 18, 0)
    check_invariants(eng, {QUOTE: 1_000_000, BASE: 1_000})


def test_taker_fee_telescopes_over_fills_of_one_order() -> None:
    # one taker order hitting three makers pays ceil(total notional * bps), not a sum of per-fill ceilings
    eng = Engine()
    eng.apply(spot_spec(tick_size=1, lot_size=1, maker_fee_bps=3, taker_fee_bps=5))
    eng.apply(C.DepositCredit(1, "d1", "alice", QUOTE, 1_000_000))
    eng.apply(C.DepositCredit(1, "d2", "bob", BASE, 1_000))
    for _ in range(3):
        eng.apply(C.PlaceOrder(2, "bob", MARKET, "sell", 333, 1))
    evs = eng.apply(C.PlaceOrder(3, "alice", MARKET, "buy", 333, 3))
    taker_fees = [e.taker_fee for e in evs if isinstance(e, E.Trade)]
    maker_fees = [e.maker_fee for e in evs if isinstance(e, E.Trade)]
    assert sum(taker_fees) == 1  # ceil(999 * 5 / 10000)
    assert maker_fees == [1, 1, 1]  # three separate maker orders, each rounded up
    check_invariants(eng, {QUOTE: 1_000_000, BASE: 1_000})


def test_maker_fee_reserved_on_resting_buy() -> None:
    eng = Engine()
    eng.apply(spot_spec(tick_size=1, lot_size=1, maker_fee_bps=10, taker_fee_bps=20))
    eng.apply(C.DepositCredit(1, "d1", "alice", QUOTE, 1_000_000))
    eng.apply(C.DepositCredit(1, "d2", "bob", BASE, 1_000))
    eng.apply(C.PlaceOrder(2, "alice", MARKET, "buy", 1000, 100))
    # while it may take: notional + ceil(notional * max(taker, maker) bps); resting: maker bps only
    assert eng.balance("alice", QUOTE) == (1_000_000 - 100_100, 100_100)
    eng.apply(C.PlaceOrder(3, "bob", MARKET, "sell", 1000, 40))
    assert eng.balance("alice", QUOTE) == (1_000_000 - 100_100, 60_060)
    check_invariants(eng, {QUOTE: 1_000_000, BASE: 1_000})


def test_deposit_and_withdrawal_lifecycle(eng: Engine) -> None:
    evs = eng.apply(C.WithdrawRequest(5, "w1", "alice", QUOTE, 1_000, expiry_ts=100))
    assert [(type(e), e.nonce, e.amount) for e in evs] == [(E.WithdrawalAuthorized, 1, 1_000)]
    assert eng.balance("alice", QUOTE) == (Q0 - 1_000, 0)
    assert eng.apply(C.WithdrawExpire(50, "w1"))[0].reason == "withdrawal_not_expired"
    evs = eng.apply(C.WithdrawExpire(100, "w1"))
    assert isinstance(evs[0], E.WithdrawalExpired)
    assert eng.balance("alice", QUOTE) == (Q0, 0)
    eng.apply(C.WithdrawRequest(101, "w2", "alice", QUOTE, 500, expiry_ts=200))
    assert isinstance(eng.apply(C.WithdrawExecuted(150, "w2"))[0], E.WithdrawalExecuted)
    assert eng.apply(C.WithdrawExpire(300, "w2"))[0].reason == "withdrawal_not_pending"
    assert eng.balance("alice", QUOTE) == (Q0 - 500, 0)
    check_invariants(eng, {QUOTE: 3 * Q0 - 500, BASE: 3 * B0})


def test_sequence_numbers_are_global_and_gapless(eng: Engine, place: Any) -> None:
    start = eng.seq
    seqs: list[int] = []
    seqs += [e.seq for e in place("bob", "sell", 100, 2)]
    seqs += [e.seq for e in place("alice", "buy", 100, 5, tif="ioc")]
    seqs += [e.seq for e in place("alice", "buy", -1, 5)]
    assert seqs == list(range(start + 1, start + 1 + len(seqs)))
