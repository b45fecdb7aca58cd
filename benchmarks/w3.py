"""W3 worker: a 1-99 cent binary prediction market, ONE engine per (fresh) process.

Usage: python -m benchmarks.w3 ENGINE FLOW_JSON -> prints one JSON line.
ENGINE:
- ``ours``: the whole ``Engine.apply`` path for prediction orders (checks, collateral
  reservation, fees, mint / transfer settlement, events) with 1,000 funded accounts;
- ``ours-book``: our bare book (``Book.match_*`` / ``insert``), no ledger, for reference;
- ``pyclob``: ``pyclob.OrderBook.place_order`` with its own ``Account`` model (reserves,
  positions, realised PnL), the same 1,000 accounts.

- ``ours-e2e`` / ``pyclob-e2e``: the same, but each order's input (our ``PlaceOrder``,
  pyclob's ``Order``, whose constructor validates the price and draws its uuid and
  timestamp) is built inside the timed loop.

The flow is shared: (is_buy, price in cents, size). A buy is a YES buy at that price for
both engines; a sell is pyclob's SELL (short YES, reserve 100 - price), which is our NO buy
at 100 - price: the same economic order, and the same place in the YES book. So the two
engines match the identical book, price-time, at the maker's price. In ``ours`` and
``pyclob`` the inputs are built before the clock starts, which spares pyclob its order
validation, uuid and datetime calls: that counts against us, not for us.
"""

from __future__ import annotations

import gc
import json
import random
import sys
import time
from typing import Any

import markets.engine
from markets.engine.runtime import COLLECT_EVERY, collect_garbage, start_sequencer_gc

SEED = 20261313
N_ORDERS = 200_000
N_ACCOUNTS = 1_000
TOP = 100  # cents per share
USDC_CENT = 10_000  # 6-decimal collateral: one cent
BOND = 500 * 10**18  # the launch minimum for prediction markets (checked at launch only, not measured)


def generate(n: int = N_ORDERS, seed: int = SEED) -> list[tuple[bool, int, int]]:
    """Limit orders around a drifting mid kept within 10..90 cents; about a third cross."""
    rng = random.Random(seed)
    mid = 50
    out = []
    for _ in range(n):
        if rng.random() < 0.01:
            mid = min(90, max(10, mid + rng.choice((-1, 1))))
        is_buy = rng.random() < 0.5
        off = rng.randint(0, 2) if rng.random() < 0.4 else -rng.randint(1, 8)
        price = mid + off if is_buy else mid - off
        out.append((is_buy, min(TOP - 1, max(1, price)), rng.randint(1, 100)))
    return out


def _accounts() -> list[str]:
    return [f"0x{a:040x}" for a in range(N_ACCOUNTS)]


def _owners(n: int) -> list[int]:
    rng = random.Random(7)
    return [rng.randrange(N_ACCOUNTS) for _ in range(n)]


def run_ours(flow: list[tuple[bool, int, int]], e2e: bool = False) -> dict[str, Any]:
    from markets.engine import Engine
    from markets.engine import commands as C

    eng = Engine()
    eng.apply(
        C.LaunchMarket(
            1, "WX", "prediction", "", "USDC", USDC_CENT, TOP * USDC_CENT, 1, 0, 5, 2000, "0xdeployer",
            close_ts=10**12, resolver="0xresolver", dispute_window_ms=7_200_000, dispute_bond=10**9, bond=BOND,
        )
    )  # fmt: skip
    accts = _accounts()
    funds = 10**15
    for i, a in enumerate(accts):
        eng.apply(C.DepositCredit(1, f"d{i}", a, "USDC", funds))
    cmds = [
        C.PlaceOrder(2 + i // 1000, accts[w], "WX", "buy", p if b else TOP - p, s, outcome="yes" if b else "no")
        for i, ((b, p, s), w) in enumerate(zip(flow, _owners(len(flow)), strict=True))
    ]
    start_sequencer_gc()  # as the sequencer does after restore (docs/engine.md "Running the engine")
    apply = eng.apply
    n_events = 0
    if e2e:
        owners = [accts[w] for w in _owners(len(flow))]
        del cmds
        PlaceOrder = C.PlaceOrder
        t0 = time.perf_counter()
        for i, ((b, p, s), a) in enumerate(zip(flow, owners, strict=True)):
            cmd = PlaceOrder(2 + i // 1000, a, "WX", "buy", p if b else TOP - p, s, outcome="yes" if b else "no")
            n_events += len(apply(cmd))
            if not (i + 1) % COLLECT_EVERY:
                collect_garbage()
        collect_garbage()
        dt = time.perf_counter() - t0
        n_cmds = len(flow)
    else:
        t0 = time.perf_counter()
        # the sequencer's collection every COLLECT_EVERY commands is inside the timing
        for start in range(0, len(cmds), COLLECT_EVERY):
            for cmd in cmds[start : start + COLLECT_EVERY]:
                n_events += len(apply(cmd))
            collect_garbage()
        dt = time.perf_counter() - t0
        n_cmds = len(cmds)
    # sanity, outside the timing: nothing rejected, collateral conserved, supplies match
    assert eng.next_order_id - 1 == n_cmds, "some orders were rejected"
    total = sum(a.held("USDC") for a in eng.accounts.values())
    assert total == N_ACCOUNTS * funds, "conservation broken"
    pm = eng.pred.markets["WX"]
    assert pm.yes_supply == pm.no_supply
    assert eng.balance("sys:collateral:WX", "USDC")[0] == pm.yes_supply * TOP * USDC_CENT
    return {
        "seconds": dt,
        "events": n_events,
        "filled_lots": pm.yes_supply,
        "resting_orders": len(eng.orders),
        "build": "native" if markets.engine.NATIVE else "interpreted",
    }


def run_ours_book(flow: list[tuple[bool, int, int]]) -> dict[str, Any]:
    from markets.engine.book import STP_TAKING, Book, Order

    book = Book()
    match_buy, match_sell, insert = book.match_buy, book.match_sell, book.insert
    execs: list[Any] = []
    clear = execs.clear
    owners = _owners(len(flow))
    accts = _accounts()
    filled = 0
    start_sequencer_gc()
    t0 = time.perf_counter()
    for oid, ((is_buy, price, size), w) in enumerate(zip(flow, owners, strict=True), 1):
        acct = accts[w]
        if is_buy:
            rem, _ = match_buy(price, size, acct, 0, STP_TAKING, execs)
        else:
            rem, _ = match_sell(price, size, acct, 0, STP_TAKING, execs)
        if rem:
            insert(Order(oid, acct, is_buy, price, rem))
        filled += size - rem
        clear()
        if not oid % COLLECT_EVERY:
            collect_garbage()
    collect_garbage()
    dt = time.perf_counter() - t0
    return {"seconds": dt, "filled_lots": filled}


def run_pyclob(flow: list[tuple[bool, int, int]], e2e: bool = False) -> dict[str, Any]:
    from pyclob import Account, Order, OrderBook, Side

    accts = _accounts()
    accounts = {a: Account(a, starting_bankroll_c=10**15) for a in accts}
    book = OrderBook("WX")
    owners = [accts[w] for w in _owners(len(flow))]
    place = book.place_order
    if e2e:
        buy, sell = Side.BUY, Side.SELL
        gc.collect()
        gc.freeze()
        t0 = time.perf_counter()
        for (b, p, s), a in zip(flow, owners, strict=True):
            place(Order(account_id=a, side=buy if b else sell, price=p, qty=s), accounts)
        dt = time.perf_counter() - t0
    else:
        orders = [
            Order(account_id=a, side=Side.BUY if b else Side.SELL, price=p, qty=s)
            for (b, p, s), a in zip(flow, owners, strict=True)
        ]
        gc.collect()
        gc.freeze()
        t0 = time.perf_counter()
        for o in orders:
            place(o, accounts)
        dt = time.perf_counter() - t0
    return {"seconds": dt, "filled_lots": book.volume, "events": len(book.fills)}


RUNNERS = {
    "ours": run_ours,
    "ours-book": run_ours_book,
    "pyclob": run_pyclob,
    "ours-e2e": lambda flow: run_ours(flow, e2e=True),
    "pyclob-e2e": lambda flow: run_pyclob(flow, e2e=True),
}


def main() -> None:
    engine, path = sys.argv[1], sys.argv[2]
    with open(path) as fh:
        flow = [(bool(b), p, s) for b, p, s in json.load(fh)]
    out = RUNNERS[engine](flow)
    out.update(engine=engine, orders=len(flow), orders_per_s=len(flow) / out["seconds"])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
