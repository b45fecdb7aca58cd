"""W1 worker: bare matching of the shared flow by ONE engine, in this (fresh) process.

Usage: python -m benchmarks.w1 ENGINE FLOW_JSON  -> prints one JSON line.
ENGINE: ours | lightmatchingengine | cython-orderbook
"""

from __future__ import annotations

import gc
import json
import sys
import time
from typing import Any

import markets.engine
from markets.engine.runtime import COLLECT_EVERY, collect_garbage, start_sequencer_gc


def load(path: str) -> list[tuple[bool, int, int]]:
    with open(path) as fh:
        return [(bool(b), p, s) for b, p, s in json.load(fh)]


def run_ours(flow: list[tuple[bool, int, int]]) -> tuple[float, int]:
    from markets.engine.book import STP_TAKING, Book, Order

    book = Book()
    match_buy, match_sell, insert = book.match_buy, book.match_sell, book.insert
    execs: list[Any] = []
    clear = execs.clear
    t0 = time.perf_counter()
    # the sequencer's collection every COLLECT_EVERY commands is inside the timing
    for start in range(0, len(flow), COLLECT_EVERY):
        for oid, (is_buy, price, size) in enumerate(flow[start : start + COLLECT_EVERY], start + 1):
            if is_buy:
                rem, _ = match_buy(price, size, None, 0, STP_TAKING, execs)
            else:
                rem, _ = match_sell(price, size, None, 0, STP_TAKING, execs)
            if rem:
                insert(Order(oid, "", is_buy, price, rem))
            clear()
        collect_garbage()
    dt = time.perf_counter() - t0
    resting = sum(lvl.total for side in (book.bids, book.asks) for lvl in side.values())
    return dt, resting


def p99_ours(flow: list[tuple[bool, int, int]]) -> dict[str, Any]:
    """Per-order latency in a separate pass (timer calls would distort the throughput pass)."""
    from markets.engine.book import STP_TAKING, Book, Order

    book = Book()
    match_buy, match_sell, insert = book.match_buy, book.match_sell, book.insert
    execs: list[Any] = []
    clear = execs.clear
    now = time.perf_counter_ns
    lat = [0] * len(flow)
    crossing = 0
    for i, (is_buy, price, size) in enumerate(flow):
        oid = i + 1
        t = now()
        if is_buy:
            rem, _ = match_buy(price, size, None, 0, STP_TAKING, execs)
        else:
            rem, _ = match_sell(price, size, None, 0, STP_TAKING, execs)
        if rem:
            insert(Order(oid, "", is_buy, price, rem))
        lat[i] = now() - t
        if execs:
            crossing += 1
        clear()
    lat.sort()
    n = len(lat)
    return {
        "p50_us": lat[n // 2] / 1000,
        "p99_us": lat[n * 99 // 100] / 1000,
        "max_us": lat[-1] / 1000,
        "crossing_share": crossing / n,
    }


def run_lme(flow: list[tuple[bool, int, int]]) -> tuple[float, int]:
    from lightmatchingengine.lightmatchingengine import LightMatchingEngine

    lme = LightMatchingEngine()
    add = lme.add_order
    t0 = time.perf_counter()
    for is_buy, price, size in flow:
        add("X", price, size, 1 if is_buy else 2)
    dt = time.perf_counter() - t0
    book = lme.order_books["X"]
    resting = sum(o.leaves_qty for side in (book.bids, book.asks) for lvl in side.values() for o in lvl)
    return dt, resting


def run_cython(flow: list[tuple[bool, int, int]]) -> tuple[float, int]:
    from cython_orderbook import Order, OrderBook, OrderSide

    book = OrderBook()
    add = book.add_limit_order
    bid, ask = OrderSide.BID, OrderSide.ASK
    t0 = time.perf_counter()
    for is_buy, price, size in flow:
        add(Order(bid if is_buy else ask, size, price))
    dt = time.perf_counter() - t0
    resting = sum(lvl.total_quantity for side in (book.bids, book.asks) for lvl in side.values())
    return dt, resting


RUNNERS = {"ours": run_ours, "lightmatchingengine": run_lme, "cython-orderbook": run_cython}


def main() -> None:
    engine, path = sys.argv[1], sys.argv[2]
    flow = load(path)
    if engine == "ours":
        start_sequencer_gc()  # our engine's process runs so (docs/engine.md "Running the engine")
    else:
        gc.collect()
    dt, resting = RUNNERS[engine](flow)
    submitted = sum(s for _, _, s in flow)
    out: dict[str, Any] = {
        "engine": engine,
        "orders": len(flow),
        "seconds": dt,
        "orders_per_s": len(flow) / dt,
        "filled_lots": (submitted - resting) // 2,
    }
    if engine == "ours":
        out["build"] = "native" if markets.engine.NATIVE else "interpreted"
    if engine == "ours" and "--latency" in sys.argv:
        out.update(p99_ours(flow))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
