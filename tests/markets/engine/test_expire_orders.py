"""ExpireOrders: the bounded clock sweep of expired resting orders, on spot, perp and prediction books."""

from __future__ import annotations

import json
from typing import Any

from markets.engine import Engine, RejectReason
from markets.engine import commands as C
from markets.engine import events as E
from markets.engine.params import DEFAULT_PARAMS

from .conftest import MARKET, QUOTE, check_invariants, ok, rej, spot_spec
from .perp_helpers import FAST, USD, perp_spec
from .pred_helpers import pred_spec

OPS_EXPIRE_COMMANDS = {"ExpireOrders"}
OPS_EXPIRE_EVENTS = {"OrdersExpired"}


def cancelled(evs: list[Any]) -> list[tuple[int, str, int, str]]:
    return [(e.order_id, e.account, e.remaining, e.reason) for e in evs if isinstance(e, E.OrderCancelled)]


def spot_book() -> Engine:
    """Alice: buys 1..4 at 100..103 ticks, 2 lots each, expiring at 50, 40, 0 (never), 40; bob sells 1 lot."""
    eng = Engine()
    ok(eng, spot_spec())
    ok(eng, C.DepositCredit(1, "d1", "alice", QUOTE, 100_000))
    ok(eng, C.DepositCredit(1, "d2", "bob", "ETH", 10_000))
    for i, expiry in enumerate((50, 40, 0, 40)):
        ok(eng, C.PlaceOrder(2, "alice", MARKET, "buy", 100 + i, 2, expiry_ts=expiry))
    ok(eng, C.PlaceOrder(2, "bob", MARKET, "sell", 200, 1, expiry_ts=45))
    return eng


def test_sweep_removes_expired_orders_earliest_first_and_releases_reservations() -> None:
    eng = spot_book()
    # reserved: 2 lots x tick 10 x (100 + 101 + 102 + 103) = 8,120 USDC; 1 lot = 1,000 ETH
    assert eng.balance("alice", QUOTE) == (100_000 - 8_120, 8_120)
    assert ok(eng, C.ExpireOrders(39)) == []  # nothing has expired yet: no events at all
    evs = ok(eng, C.ExpireOrders(45))
    # expiry 40 (orders 2 and 4, by id), then bob's at 45; order 1 (50) and order 3 (never) stay
    assert cancelled(evs) == [(2, "alice", 2, "expired"), (4, "alice", 2, "expired"), (5, "bob", 1, "expired")]
    assert evs[-1] == E.OrdersExpired(evs[-1].seq, "", 3, False)
    assert [e.seq for e in evs] == list(range(evs[0].seq, evs[0].seq + 4))
    assert eng.balance("alice", QUOTE) == (100_000 - 4_040, 4_040)  # 2,020 + 2,040 released
    assert eng.balance("bob", "ETH") == (10_000, 0)
    assert eng.depth(MARKET) == {"bids": [(102, 2), (100, 2)], "asks": []}
    check_invariants(eng)
    evs = ok(eng, C.ExpireOrders(10**6))
    assert cancelled(evs) == [(1, "alice", 2, "expired")]
    assert eng.depth(MARKET) == {"bids": [(102, 2)], "asks": []}  # the order without expiry never goes


def test_limit_bounds_each_command_and_more_reports_the_rest() -> None:
    eng = spot_book()
    evs = ok(eng, C.ExpireOrders(60, limit=2))
    assert cancelled(evs) == [(2, "alice", 2, "expired"), (4, "alice", 2, "expired")]
    assert (evs[-1].expired, evs[-1].more) == (2, True)
    evs = ok(eng, C.ExpireOrders(60, limit=2))
    assert [c[0] for c in cancelled(evs)] == [5, 1]
    assert (evs[-1].expired, evs[-1].more) == (2, False)
    assert ok(eng, C.ExpireOrders(60, limit=2)) == []
    check_invariants(eng)


def test_market_filter_and_orders_gone_before_their_expiry() -> None:
    eng = spot_book()
    ok(eng, spot_spec("BTC-USDC", ts=3, base_asset="BTC"))
    ok(eng, C.DepositCredit(3, "d3", "carol", "BTC", 5_000))
    ok(eng, C.PlaceOrder(3, "carol", "BTC-USDC", "sell", 10, 3, expiry_ts=20))
    # bob's ask is filled before it expires, alice's order 4 is cancelled: their index entries are stale
    ok(eng, C.DepositCredit(3, "d4", "dave", QUOTE, 10_000))
    ok(eng, C.PlaceOrder(3, "dave", MARKET, "buy", 200, 1, tif="ioc"))
    ok(eng, C.CancelOrder(3, "alice", 4))
    evs = ok(eng, C.ExpireOrders(45, market_id=MARKET))
    assert cancelled(evs) == [(2, "alice", 2, "expired")]
    assert evs[-1] == E.OrdersExpired(evs[-1].seq, MARKET, 1, False)
    evs = ok(eng, C.ExpireOrders(45))
    assert cancelled(evs) == [(6, "carol", 3, "expired")]
    assert eng.balance("carol", "BTC") == (5_000, 0)
    check_invariants(eng)


def test_perp_and_prediction_orders_expire_too() -> None:
    eng = Engine(FAST)
    ok(eng, perp_spec())
    ok(eng, C.SetRiskClass(1, "BTC-PERP", "cross_eligible"))
    ok(eng, pred_spec())
    ok(eng, C.DepositCredit(1, "d1", "alice", USD, 100_000))
    ok(eng, C.PlaceOrder(2, "alice", "BTC-PERP", "sell", 1_000, 5, expiry_ts=30))  # order 1
    ok(eng, C.PlaceOrder(2, "alice", "BIN", "buy", 30, 4, outcome="no", expiry_ts=30))  # order 2: 4 x 30 held
    assert eng.balance("alice", USD) == (100_000 - 120, 120)
    evs = ok(eng, C.ExpireOrders(30))
    assert cancelled(evs) == [(1, "alice", 5, "expired"), (2, "alice", 4, "expired")]
    assert eng.balance("alice", USD) == (100_000, 0)
    assert 2 not in eng.pred.no_orders
    assert eng.open_orders("alice") == []
    assert eng.depth("BTC-PERP") == eng.depth("BIN") == {"bids": [], "asks": []}


def test_rejects_leave_the_state_unchanged() -> None:
    eng = spot_book()
    assert rej(eng, C.ExpireOrders(45, limit=0)) == RejectReason.INVALID_FIELD
    assert rej(eng, C.ExpireOrders(45, limit=DEFAULT_PARAMS.expire_max_orders + 1)) == RejectReason.INVALID_FIELD
    assert rej(eng, C.ExpireOrders(45, market_id="NOPE")) == RejectReason.UNKNOWN_MARKET
    assert rej(eng, C.ExpireOrders(1)) == RejectReason.TIMESTAMP_REGRESSION
    assert DEFAULT_PARAMS.expire_max_orders == 1_000 and C.ExpireOrders(1).limit == 100


def test_restored_engine_sweeps_the_same_and_codec_round_trips() -> None:
    eng = spot_book()
    ok(eng, C.CancelOrder(3, "alice", 4))
    copy = Engine.restore(json.loads(json.dumps(eng.snapshot())))
    assert copy.state_hash() == eng.state_hash()
    for cmd in (C.ExpireOrders(45, limit=1), C.ExpireOrders(60)):
        wire = json.loads(json.dumps(C.to_dict(cmd)))
        assert C.from_dict(wire) == cmd
        evs = eng.apply(cmd)
        assert copy.apply(cmd) == evs
        for ev in evs:
            assert E.from_dict(json.loads(json.dumps(E.to_dict(ev)))) == ev
    assert copy.state_hash() == eng.state_hash()


def test_the_expiry_index_stays_small_when_orders_leave_before_expiring() -> None:
    eng = Engine()
    ok(eng, spot_spec())
    ok(eng, C.DepositCredit(1, "d1", "alice", QUOTE, 10**9))
    for i in range(1_000):
        [acc] = ok(eng, C.PlaceOrder(2, "alice", MARKET, "buy", 100, 1, expiry_ts=10**9 + i))
        ok(eng, C.CancelOrder(2, "alice", acc.order_id))
    ok(eng, C.PlaceOrder(2, "alice", MARKET, "buy", 100, 1, expiry_ts=10**9))
    heap = eng.markets[MARKET].book.expiry_heap
    assert len(heap) <= 2 * 1 + 64  # 1,000 cancelled orders' entries are not kept
    evs = ok(eng, C.ExpireOrders(10**9))
    assert cancelled(evs) == [(1_001, "alice", 1, "expired")]


def test_an_order_joining_an_existing_level_is_swept_too() -> None:
    # the spot hot path links an order into an existing level itself: it must index the expiry too
    eng = spot_book()
    ok(eng, C.PlaceOrder(3, "alice", MARKET, "buy", 102, 3, expiry_ts=42))  # order 6 joins order 3's level
    assert eng.depth(MARKET)["bids"][1] == (102, 5)
    evs = ok(eng, C.ExpireOrders(42))
    assert cancelled(evs) == [(2, "alice", 2, "expired"), (4, "alice", 2, "expired"), (6, "alice", 3, "expired")]
    assert eng.depth(MARKET) == {"bids": [(102, 2), (100, 2)], "asks": [(200, 1)]}
    check_invariants(eng)
