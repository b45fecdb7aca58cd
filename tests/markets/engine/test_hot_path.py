"""Resting orders built on the hot paths are complete Orders, queued in time order."""

from __future__ import annotations

from markets.engine import Engine
from markets.engine import commands as C
from markets.engine.book import Book, Order
from markets.engine.engine import _walk

from . import test_perp_codec
from .conftest import assert_no_engine_cycles, watch_cycles
from .native_flow import spot_and_binary_commands

# Order's fields (a compiled Order has no __slots__ to list them; the interpreted one's must match)
FIELDS = (
    *("order_id", "account", "is_buy", "price", "qty", "expiry_ts", "prev", "next", "level"),
    *("market_id", "client_id", "size", "reserved", "fee_w", "tif", "order_type", "hold", "key"),
)


def test_the_field_list_is_orders_own() -> None:
    assert getattr(Order, "__slots__", FIELDS) == FIELDS


def test_resting_spot_orders_have_every_order_field_and_queue_in_time_order() -> None:
    # given: a spot market with two funded accounts
    eng = Engine()
    eng.apply(C.LaunchMarket(1, "ETH-USDC", "spot", "ETH", "USDC", 1, 1, 1, -1, 5, 2000, "0xdeployer", bond=10**20))
    eng.apply(C.DepositCredit(1, "d1", "0xalice", "USDC", 10**9))
    eng.apply(C.DepositCredit(1, "d2", "0xbob", "ETH", 10**9))
    # when: two orders open price levels and two more join them
    eng.apply(C.PlaceOrder(2, "0xbob", "ETH-USDC", "sell", 300, 4, client_id="b1"))
    eng.apply(C.PlaceOrder(3, "0xbob", "ETH-USDC", "sell", 300, 2, expiry_ts=99))
    eng.apply(C.PlaceOrder(4, "0xalice", "ETH-USDC", "buy", 290, 3, tif="post_only"))
    eng.apply(C.PlaceOrder(5, "0xalice", "ETH-USDC", "buy", 290, 1))
    # then: every Order field is set, as Order(...) sets them
    book = eng.markets["ETH-USDC"].book
    for o in eng.orders.values():
        assert all(hasattr(o, name) for name in FIELDS), o.order_id
        assert o.size == o.qty and o.market_id == "ETH-USDC"
    assert (eng.orders[1].client_id, eng.orders[2].expiry_ts, eng.orders[3].tif) == ("b1", 99, "post_only")
    # and each holds its reservation in its owner's ledger entry: ETH for bob's sells, USDC for alice's buys
    assert all(o.hold is eng.accounts[o.account].bal["USDC" if o.is_buy else "ETH"] for o in eng.orders.values())
    # and each level holds its orders oldest first, linked both ways, with the right total
    for lvl, ids, total in ((book.asks[300], [1, 2], 6), (book.bids[290], [3, 4], 4)):
        assert [o.order_id for o in _walk(lvl.head)] == ids
        assert lvl.tail is eng.orders[ids[-1]] and lvl.tail.prev is eng.orders[ids[0]]
        assert lvl.total == total
    assert eng.depth("ETH-USDC") == {"bids": [(290, 4)], "asks": [(300, 6)]}


def test_insert_links_each_order_at_the_back_of_its_level_with_totals_and_expiries() -> None:
    # given: three orders with every field set, two of them at one price and two with expiries
    fields = [
        (1, "0xa", True, 290, 3, 0, "M", "c1", 3, 870, 0, "gtc", "limit"),
        (2, "0xb", True, 290, 2, 50, "M", "", 5, 580, 7, "gtc", "limit"),
        (3, "0xc", False, 300, 4, 60, "M", "", 4, 4, 0, "gtc", "limit"),
    ]
    book = Book()
    for row in fields:
        # when: each rests as the hot paths rest an order
        o = Order(*row)
        book.insert(o)
        # then: each is a complete Order, as given
        assert all(hasattr(o, name) for name in FIELDS), o.order_id
        assert _row(o) == row
    # and each level holds its orders oldest first, linked both ways, with its total, and the
    # expiry index holds the two orders with an expiry
    assert [(lvl.price, lvl.total) for lvl in book.levels(True)] == [(290, 5)]
    assert [(lvl.price, lvl.total) for lvl in book.levels(False)] == [(300, 4)]
    for side, ids in ((True, [1, 2]), (False, [3])):
        (lvl,) = book.levels(side)
        assert [o.order_id for o in _walk(lvl.head)] == ids
        assert lvl.tail is not None and lvl.tail.next is None
        assert lvl.tail.prev is None or lvl.tail.prev.next is lvl.tail
    assert [e[:2] for e in sorted(book.expiry_heap)] == [(50, 2), (60, 3)]


def _row(o: Order) -> tuple[object, ...]:
    return tuple(getattr(o, name) for name in FIELDS if name not in ("prev", "next", "level", "hold", "key"))


def test_restore_lists_each_accounts_orders_in_order_id_order() -> None:
    # given: two accounts whose orders interleave across price levels
    eng = Engine()
    eng.apply(C.LaunchMarket(1, "ETH-USDC", "spot", "ETH", "USDC", 1, 1, 1, 0, 0, 0, "0xdeployer", bond=10**20))
    for who in ("0xa", "0xb"):
        eng.apply(C.DepositCredit(1, f"d-{who}", who, "USDC", 10**9))
    for i, who in enumerate(["0xa", "0xb", "0xa", "0xb", "0xa"]):
        eng.apply(C.PlaceOrder(2, who, "ETH-USDC", "buy", 100 - i % 2 * 5 + i, 1))
    # when: the engine is restored from its snapshot
    back = Engine.restore(eng.snapshot())
    # then: each account lists its orders as before, oldest first, and CancelAll goes in that order
    for who in ("0xa", "0xb"):
        assert [o.order_id for o in back.open_orders(who)] == [o.order_id for o in eng.open_orders(who)]
    assert [o.order_id for o in back.open_orders("0xa")] == [1, 3, 5]
    assert [e.order_id for e in back.apply(C.CancelAll(3, "0xa"))] == [1, 3, 5]
    eng.apply(C.CancelAll(3, "0xa"))
    assert back.state_hash() == eng.state_hash()


def test_a_dropped_book_cuts_the_links_of_its_resting_orders() -> None:
    # given: a book with two orders resting at one price, each linked to the other and to the level
    book = Book()
    first, second = Order(1, "0xa", True, 290, 3), Order(2, "0xb", True, 290, 2)
    book.insert(first)
    book.insert(second)
    assert first.next is second and second.prev is first and first.level is not None
    # when: the book is dropped (as an engine replaced by a restore is)
    del book
    # then: no order links to another or to a level any more, so nothing is left in a cycle
    # (compiled, orders are invisible to the cycle collector: see book.Order)
    assert [(o.prev, o.next, o.level) for o in (first, second)] == [(None, None, None)] * 2


def test_a_dropped_engine_is_freed_by_reference_counting() -> None:
    # given: engines with resting spot, prediction and perp orders (linked to each other in
    # their levels) and a perp margin index
    watch_cycles()
    engines = [Engine(), Engine(test_perp_codec.FAST)]
    for eng, flow in zip(engines, (spot_and_binary_commands(600), test_perp_codec.sample_commands()), strict=True):
        for cmd in flow:
            eng.apply(cmd)
    orders = [o for eng in engines for o in eng.orders.values()]
    assert {o.market_id for o in orders} == {"S-USD", "BIN", "A-PERP"}
    assert engines[1].perp.index is not None
    # when: the engines are dropped (as one replaced by a restore is)
    del engines, eng
    # then: their books cut their orders' links, and reference counting freed everything else
    assert all(o.level is None and o.next is None for o in orders)
    del orders
    assert_no_engine_cycles()
