"""Price-time priority order book for one market: integer prices (ticks) and sizes (lots).

Each price level is a doubly linked list of resting orders (FIFO), so an order is unlinked
in O(1) given its node. Levels live in a dict keyed by price; the best price comes from a
binary heap of prices (bids negated) with lazy deletion of emptied levels. A second heap
holds ``(expiry_ts, order_id, order)`` of every order inserted with an expiry, for the
expiry sweep (``Engine`` command ``ExpireOrders``); entries of orders that left the book are
skipped lazily, and purged whenever the heap has doubled. Both heaps are derived data: they
never enter snapshots or the state hash.

An order leaving the book keeps no link forward (matching clears ``next`` as it moves on,
``remove`` clears all three links), so orders never form reference cycles: reference counting
frees them, and the sequencer runs without automatic garbage collection (runtime.py).

The book knows nothing about balances. ``match_*`` consumes liquidity and reports what
happened as a list of ``(maker_order, code)`` pairs, in order: ``code > 0`` is a fill of
that many lots; ``EXPIRED`` / ``SELF_TRADE`` mean the maker was removed unfilled.
"""

from __future__ import annotations

from heapq import heapify, heappop, heappush
from typing import TYPE_CHECKING, Final

from mypy_extensions import mypyc_attr

if TYPE_CHECKING:
    from .ledger import Balance

__all__ = ["Order", "Level", "Book", "EXPIRED", "SELF_TRADE", "STP_RESTING", "STP_TAKING", "STP_BOTH"]

EXPIRED: Final = -1
_EXPIRY_SLACK: Final = 64
SELF_TRADE: Final = -2

STP_RESTING: Final = 0
STP_TAKING: Final = 1
STP_BOTH: Final = 2


# Compiled, an Order is left out of the cycle collector, whose every pass would otherwise walk
# every resting order. Safe because no garbage order is ever in a cycle: an order leaving the
# book has its links cut (see the module docstring), and Book.__del__ cuts those of the orders
# still resting in a book that is dropped. Interpreted, the decorator does nothing.
@mypyc_attr(acyclic=True)
class Order:
    """A live order. The book uses the linking fields; the engine owns the accounting ones."""

    __slots__ = (
        "order_id",
        "account",
        "is_buy",
        "price",
        "qty",
        "expiry_ts",
        "prev",
        "next",
        "level",
        # engine accounting
        "market_id",
        "client_id",
        "size",
        "reserved",
        "fee_w",
        "tif",
        "order_type",
        "hold",
        "key",
    )

    def __init__(
        self,
        order_id: int,
        account: str,
        is_buy: bool,
        price: int,
        qty: int,
        expiry_ts: int = 0,
        market_id: str = "",
        client_id: str = "",
        size: int = 0,
        reserved: int = 0,
        fee_w: int = 0,
        tif: str = "gtc",
        order_type: str = "limit",
        hold: Balance | None = None,
    ) -> None:
        self.order_id = order_id
        self.account = account
        self.is_buy = is_buy
        self.price = price
        self.qty = qty  # lots remaining
        self.expiry_ts = expiry_ts  # 0 = never
        # prev / next / level are set by Book.insert; an Order exists only to rest in a book
        self.prev: Order | None
        self.next: Order | None
        self.level: Level | None
        self.market_id = market_id
        self.client_id = client_id
        self.size = size or qty  # original size, lots
        self.reserved = reserved  # funds held for this order (quote for buys, base for sells)
        self.fee_w = fee_w  # sum of fill notional * fee bps so far (see engine fee rules)
        self.tif = tif
        self.order_type = order_type
        # the owner's ledger entry of the asset ``reserved`` is held in (None: the order
        # reserves nothing, as a perp order): a fill or removal settles it without a lookup
        self.hold = hold
        # the order id as one int object, the key the engine's dicts and sets of live orders
        # use for it (read through Any-keyed aliases, so that the compiled build passes this
        # object): compiled code boxes an int afresh at each use, and a dict must then compare
        # a fresh key by value instead of by identity (callgrind: 6 % of a W3 order)
        self.key: object = order_id


class Level:
    """All resting orders at one price, oldest first."""

    __slots__ = ("price", "head", "tail", "total")

    def __init__(self, price: int) -> None:
        self.price = price
        self.head: Order | None = None
        self.tail: Order | None = None
        self.total = 0  # lots


class Book:
    """One market's bids and asks."""

    __slots__ = ("bids", "asks", "bid_heap", "ask_heap", "expiry_heap", "expiry_cap")

    def __init__(self) -> None:
        self.bids: dict[int, Level] = {}
        self.asks: dict[int, Level] = {}
        self.bid_heap: list[int] = []  # negated prices
        self.ask_heap: list[int] = []
        self.expiry_heap: list[tuple[int, int, Order]] = []  # order ids are unique: Order never compared
        self.expiry_cap = _EXPIRY_SLACK  # compact the expiry heap when it grows past this

    def __del__(self) -> None:
        # a dropped book (an engine replaced by a restore, or a test's) must free its resting
        # orders, which link to each other and to their level: cut the links (see Order)
        for levels in (self.bids, self.asks):
            for lvl in levels.values():
                o = lvl.head
                while o is not None:
                    nxt = o.next
                    o.prev = None
                    o.next = None
                    o.level = None
                    o = nxt
                lvl.head = None
                lvl.tail = None

    # -- queries ---------------------------------------------------------------------------

    def best_bid(self) -> int | None:
        heap, levels = self.bid_heap, self.bids
        while heap:
            p = -heap[0]
            if p in levels:
                return p
            heappop(heap)
        return None

    def best_ask(self) -> int | None:
        heap, levels = self.ask_heap, self.asks
        while heap:
            p = heap[0]
            if p in levels:
                return p
            heappop(heap)
        return None

    def levels(self, is_buy: bool) -> list[Level]:
        """Levels of one side in priority order (bids high to low, asks low to high)."""
        side = self.bids if is_buy else self.asks
        return [side[p] for p in sorted(side, reverse=is_buy)]

    def can_fill(self, is_buy: bool, limit: int, qty: int, account: str | None, ts: int, stp: int) -> bool:
        """Would ``match_*`` fill ``qty`` in full? Pure: mirrors matching without mutating."""
        if is_buy:
            prices = sorted(p for p in self.asks if p <= limit)
            side = self.asks
        else:
            prices = sorted((p for p in self.bids if p >= limit), reverse=True)
            side = self.bids
        for p in prices:
            o = side[p].head
            while o is not None:
                if o.expiry_ts and o.expiry_ts <= ts:
                    pass
                elif account is not None and o.account == account:
                    if stp != STP_RESTING:
                        return False
                else:
                    qty -= o.qty
                    if qty <= 0:
                        return True
                o = o.next
        return False

    # -- mutation --------------------------------------------------------------------------

    def insert(self, o: Order) -> None:
        """Append a resting order at the back of its price level."""
        p = o.price
        if o.is_buy:
            levels = self.bids
            lvl = levels.get(p)
            if lvl is None:
                lvl = levels[p] = Level(p)
                heappush(self.bid_heap, -p)
        else:
            levels = self.asks
            lvl = levels.get(p)
            if lvl is None:
                lvl = levels[p] = Level(p)
                heappush(self.ask_heap, p)
        tail = lvl.tail
        o.prev = tail
        o.next = None
        if tail is None:
            lvl.head = o
        else:
            tail.next = o
        lvl.tail = o
        lvl.total += o.qty
        o.level = lvl
        if o.expiry_ts:
            self.track_expiry(o)

    def track_expiry(self, o: Order) -> None:
        """Enter a resting order with an expiry in the expiry index (whoever links it in calls this)."""
        heap = self.expiry_heap
        heappush(heap, (o.expiry_ts, o.order_id, o))
        if len(heap) > self.expiry_cap:
            # orders filled or cancelled long before their expiry leave entries behind; drop
            # them once the heap doubles, so it stays within 2x the live entries (amortised O(1))
            heap = self.expiry_heap = [e for e in heap if e[2].level is not None]
            heapify(heap)
            self.expiry_cap = 2 * len(heap) + _EXPIRY_SLACK

    def remove(self, o: Order) -> None:
        """Unlink a resting order in O(1)."""
        lvl = o.level
        assert lvl is not None, "order is not resting"
        prev, nxt = o.prev, o.next
        if prev is None:
            lvl.head = nxt
        else:
            prev.next = nxt
        if nxt is None:
            lvl.tail = prev
        else:
            nxt.prev = prev
        lvl.total -= o.qty
        o.prev = o.next = None
        o.level = None
        if lvl.head is None:
            if o.is_buy:
                del self.bids[lvl.price]
                if len(self.bid_heap) > 2 * len(self.bids) + 64:
                    self.bid_heap = sorted(-p for p in self.bids)
            else:
                del self.asks[lvl.price]
                if len(self.ask_heap) > 2 * len(self.asks) + 64:
                    self.ask_heap = sorted(self.asks)

    def match_buy(
        self, limit: int, qty: int, account: str | None, ts: int, stp: int, execs: list[tuple[Order, int]]
    ) -> tuple[int, bool]:
        """Take asks priced <= limit. Returns (lots left, stopped by self-trade prevention)."""
        levels = self.asks
        heap = self.ask_heap
        append = execs.append
        while qty and heap:
            p = heap[0]
            if p > limit:
                break
            lvl = levels.get(p)
            if lvl is None:
                heappop(heap)
                continue
            o = lvl.head
            consumed = 0
            stopped = False
            while o is not None:
                if o.expiry_ts and o.expiry_ts <= ts:
                    append((o, EXPIRED))
                elif account is not None and o.account == account:
                    if stp == STP_TAKING:
                        stopped = True
                        break
                    append((o, SELF_TRADE))
                    if stp == STP_BOTH:
                        consumed += o.qty
                        o.level = None
                        nxt = o.next
                        o.next = None
                        o = nxt
                        stopped = True
                        break
                else:
                    oq = o.qty
                    if oq > qty:
                        o.qty = oq - qty
                        consumed += qty
                        append((o, qty))
                        qty = 0
                        break
                    o.qty = 0
                    qty -= oq
                    consumed += oq
                    append((o, oq))
                    o.level = None
                    nxt = o.next
                    o.next = None
                    o = nxt
                    if not qty:
                        break
                    continue
                # removed unfilled (expired or self-trade)
                consumed += o.qty
                o.level = None
                nxt = o.next
                o.next = None
                o = nxt
            lvl.total -= consumed
            if o is None:
                del levels[p]
                heappop(heap)
            else:
                lvl.head = o
                o.prev = None
            if stopped:
                return qty, True
        return qty, False

    def match_sell(
        self, limit: int, qty: int, account: str | None, ts: int, stp: int, execs: list[tuple[Order, int]]
    ) -> tuple[int, bool]:
        """Take bids priced >= limit. Returns (lots left, stopped by self-trade prevention)."""
        levels = self.bids
        heap = self.bid_heap
        append = execs.append
        while qty and heap:
            p = -heap[0]
            if p < limit:
                break
            lvl = levels.get(p)
            if lvl is None:
                heappop(heap)
                continue
            o = lvl.head
            consumed = 0
            stopped = False
            while o is not None:
                if o.expiry_ts and o.expiry_ts <= ts:
                    append((o, EXPIRED))
                elif account is not None and o.account == account:
                    if stp == STP_TAKING:
                        stopped = True
                        break
                    append((o, SELF_TRADE))
                    if stp == STP_BOTH:
                        consumed += o.qty
                        o.level = None
                        nxt = o.next
                        o.next = None
                        o = nxt
                        stopped = True
                        break
                else:
                    oq = o.qty
                    if oq > qty:
                        o.qty = oq - qty
                        consumed += qty
                        append((o, qty))
                        qty = 0
                        break
                    o.qty = 0
                    qty -= oq
                    consumed += oq
                    append((o, oq))
                    o.level = None
                    nxt = o.next
                    o.next = None
                    o = nxt
                    if not qty:
                        break
                    continue
                consumed += o.qty
                o.level = None
                nxt = o.next
                o.next = None
                o = nxt
            lvl.total -= consumed
            if o is None:
                del levels[p]
                heappop(heap)
            else:
                lvl.head = o
                o.prev = None
            if stopped:
                return qty, True
        return qty, False

    def next_expired(self, ts: int) -> Order | None:
        """The resting order with the earliest (expiry_ts, order_id) if it has expired at ``ts``.

        Drops entries of orders no longer resting (filled, cancelled, met expired by matching)
        on the way; does not remove the order it returns.
        """
        heap = self.expiry_heap
        while heap:
            expiry, _, o = heap[0]
            if o.level is None:
                heappop(heap)
                continue
            return o if expiry <= ts else None
        return None

    def rebuild_heaps(self) -> None:
        """Recreate the derived heaps from the level dicts (after restore)."""
        self.bid_heap = [-p for p in self.bids]
        heapify(self.bid_heap)
        self.ask_heap = list(self.asks)
        heapify(self.ask_heap)
