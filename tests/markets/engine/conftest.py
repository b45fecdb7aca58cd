"""Shared helpers for the trading-core tests: a funded engine and an invariant checker."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from markets.engine import Engine
from markets.engine import commands as C
from markets.engine import events as E
from markets.engine.book import Order
from markets.engine.ledger import Account

MARKET = "ETH-USDC"
BASE = "ETH"
QUOTE = "USDC"


def spot_spec(market_id: str = MARKET, **over: Any) -> C.LaunchMarket:
    spec: dict[str, Any] = dict(
        ts=1,
        market_id=market_id,
        kind="spot",
        base_asset=BASE,
        quote_asset=QUOTE,
        tick_size=10,  # quote minor units per tick per lot
        lot_size=1000,  # base minor units per lot
        min_size=1,
        maker_fee_bps=0,
        taker_fee_bps=0,
        deployer_fee_share_bps=0,
        deployer="0xdeployer",
        bond=100 * 10**18,  # the protocol's minimum for spot (params.py)
    )
    spec.update(over)
    return C.LaunchMarket(**spec)


def need(o: Order, eng: Engine) -> int:
    """What a resting order must have reserved, recomputed from scratch (see docs/engine.md)."""
    m = eng.markets[o.market_id]
    if not o.is_buy:
        return o.qty * m.lot
    n = o.price * o.qty * m.tick
    bps = max(m.maker_bps, 0)
    return n + (o.fee_w // -10_000) - ((o.fee_w + n * bps) // -10_000)


def reserved_of(acct: Account, asset: str) -> int:
    b = acct.bal.get(asset)
    return 0 if b is None else b.reserved


def check_invariants(eng: Engine, expected_totals: dict[str, int] | None = None) -> None:
    """Ledger and book invariants that must hold between any two commands."""
    totals: dict[str, int] = {}
    for aid, acct in eng.accounts.items():
        for asset, b in acct.bal.items():
            assert b.free >= 0, f"{aid} free {asset} negative: {b.free}"
            assert b.reserved >= 0, f"{aid} reserved {asset} negative: {b.reserved}"
            totals[asset] = totals.get(asset, 0) + b.free + b.reserved
        # reserved == sum of resting needs, held in the owner's own ledger entry
        want: dict[str, int] = {}
        for o in acct.orders.values():
            m = eng.markets[o.market_id]
            asset = m.quote if o.is_buy else m.base
            want[asset] = want.get(asset, 0) + need(o, eng)
            assert o.reserved == need(o, eng), f"order {o.order_id} reserved {o.reserved} != need {need(o, eng)}"
            assert o.hold is acct.bal[asset], f"order {o.order_id} holds its funds outside {aid}'s {asset} entry"
        for asset in set(want) | set(acct.bal):
            assert reserved_of(acct, asset) == want.get(asset, 0), f"{aid} reserved {asset} mismatch"
    if expected_totals is not None:
        for asset in set(totals) | set(expected_totals):
            assert totals.get(asset, 0) == expected_totals.get(asset, 0), f"conservation broken for {asset}"
    check_books(eng)


def check_books(eng: Engine) -> None:
    """Every book: not crossed, levels linked both ways with the right totals, every resting
    order indexed and listed by its account, and a halted market's book empty."""
    resting = 0
    for m in eng.markets.values():
        book = m.book
        bb, ba = book.best_bid(), book.best_ask()
        assert bb is None or ba is None or bb < ba, f"{m.market_id} crossed: {bb} >= {ba}"
        for is_buy in (True, False):
            for lvl in book.levels(is_buy):
                total = 0
                o = lvl.head
                assert o is not None and o.prev is None
                while o is not None:
                    assert o.qty > 0 and o.level is lvl and o.price == lvl.price and o.is_buy == is_buy
                    assert eng.orders[o.order_id] is o and eng.accounts[o.account].orders[o.order_id] is o
                    total += o.qty
                    resting += 1
                    if o.next is None:
                        assert lvl.tail is o
                    else:
                        assert o.next.prev is o
                    o = o.next
                assert total == lvl.total
        if m.status == "halted":
            assert not book.bids and not book.asks
    assert resting == len(eng.orders)


@pytest.fixture
def eng() -> Engine:
    """Engine with one spot market (no fees) and two funded traders, alice and bob."""
    e = Engine()
    e.apply(spot_spec())
    for who in ("alice", "bob", "carol"):
        e.apply(C.DepositCredit(1, f"dep-{who}-q", who, QUOTE, 10_000_000))
        e.apply(C.DepositCredit(1, f"dep-{who}-b", who, BASE, 1_000_000))
    return e


@pytest.fixture
def place(eng: Engine) -> Callable[..., list[Any]]:
    def _place(account: str, side: str, price: int, size: int, **kw: Any) -> list[Any]:
        kw.setdefault("ts", 2)
        return eng.apply(C.PlaceOrder(account=account, market_id=MARKET, side=side, price=price, size=size, **kw))

    return _place


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Soak tests of this folder run only when asked for with ``-m soak``."""
    if "soak" in (config.getoption("markexpr") or ""):
        return
    here = str(Path(__file__).resolve().parent)
    skip = pytest.mark.skip(reason="long soak run: `make soak`")
    for item in items:
        if "soak" in item.keywords and str(item.path).startswith(here):
            item.add_marker(skip)


def ok(eng: Engine, cmd: Any) -> list[Any]:
    """Apply a command that must be accepted; return its events."""
    evs = eng.apply(cmd)
    assert not any(isinstance(e, E.Rejected) for e in evs), evs
    return evs


def rej(eng: Engine, cmd: Any) -> str:
    """Apply a command that must be rejected without a state change; return the reason."""
    before = eng.state_hash(include_seq=False)
    [ev] = eng.apply(cmd)
    assert isinstance(ev, E.Rejected), ev
    assert eng.state_hash(include_seq=False) == before
    return ev.reason


def assert_rejected_cleanly(eng: Engine, command: Any, reason: Any) -> None:
    """``command`` yields exactly one Rejected with ``reason`` and a detail, takes the next
    sequence number, and leaves every other part of the state as it was."""
    before = eng.state_hash(include_seq=False)
    seq = eng.seq
    evs = eng.apply(command)
    assert len(evs) == 1 and isinstance(evs[0], E.Rejected), evs
    assert evs[0].reason == reason.value, evs[0].detail
    assert evs[0].detail
    assert evs[0].seq == seq + 1 == eng.seq
    assert eng.state_hash(include_seq=False) == before


def watch_cycles() -> None:
    """Stop automatic collection until ``assert_no_engine_cycles``, so that no cycle is freed unseen."""
    gc.collect(0)
    gc.disable()


def assert_no_engine_cycles() -> None:
    """No engine object made since ``watch_cycles`` is garbage that only the cycle collector frees.

    The sequencer runs without automatic collection (markets/engine/runtime.py): reference
    counting must free all the engine's garbage, or the process would grow.
    """
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect(0)  # with collection off, everything made since watch_cycles is still young
        found = Counter(type(o).__qualname__ for o in gc.garbage if type(o).__module__.startswith("markets.engine"))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert not found, f"the engine left reference cycles: {dict(found)}"
