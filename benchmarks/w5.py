"""W5 worker: liquidation sweep over 100,000 accounts x 5 perp positions in 50 markets after a mark move.

Every position is opened through ``Engine.apply`` (deposits, isolated margin, a resting
order and the IOC that fills it, then a withdrawal of most of what is free), so the
``MarginIndex`` timed here is the one the engine kept from those fills, not a separate build.
Two questions, each timed against a naive pure-Python sweep in the same run (the engine's
own ``Perp.under_maintenance``, which prices every position of every domain from scratch):

- full sweep: every market's mark moved (oracle pushes); ``Perp.sweep`` re-prices the kept index;
- per tick: one market's mark moved; ``MarginIndex.update_market`` re-prices only that
  market's holders (~10,000 domains) and adjusts their totals.

The cost of keeping the index: the same perp order flow (the first ``--upkeep-accounts``
accounts' orders) through two engines, one keeping the index and one not, alternating reps.
Usage: python -m benchmarks.w5 [--accounts N] -> one JSON line.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from typing import Any

import markets.engine
from markets.engine import Engine
from markets.engine import commands as C
from markets.engine import events as E
from markets.engine.params import ProtocolParams
from markets.engine.sweep import MarginIndex

N_ACCOUNTS = 100_000
N_MARKETS = 50
PER_ACCOUNT = 5
UPKEEP_ACCOUNTS = 10_000
TS = 50_000
USD = "USD"
SRC = "push:0xoraclekey"
PARAMS = ProtocolParams(oracle_max_move_bps=10_000)
MIDS = [f"M{i:02d}-PERP" for i in range(N_MARKETS)]
BOND = 1_000 * 10**18  # the launch minimum for perp markets (checked at launch only, not measured)


def plan(n_accounts: int) -> tuple[list[Any], list[Any], list[Any]]:
    """(set-up commands, order commands, accounts that may withdraw), all deterministic."""
    rng = random.Random(5)
    setup: list[Any] = []
    for mid in MIDS:
        spec = C.LaunchMarket(1, mid, "perp", mid[:3], USD, 1, 1, 1, 0, 0, 0, "0xdeployer")
        spec = spec._replace(
            margin_tiers="100000:1000:500,1000000:2000:1000,0:5000:2500",
            collateral_weight_bps=rng.choice([5_000, 8_000, 10_000]),
            oracle_source=SRC,
            oi_cap=10**12,
            account_oi_cap=10**9,
            bond=BOND,
        )
        setup += [spec, C.SetRiskClass(1, mid, "cross_eligible")]
    setup += [C.OraclePrice(TS, mid, 1_000, SRC) for mid in MIDS]
    # half the accounts are bulls (long everywhere), half bears; a bull trades with a bear
    sides: dict[str, list[list[tuple[str, bool]]]] = {mid: [[], []] for mid in MIDS}
    for a in range(n_accounts):
        aid = f"0x{a:040x}"
        setup.append(C.DepositCredit(TS, f"d{a}", aid, USD, 10**8))
        for mid in rng.sample(MIDS, PER_ACCOUNT):
            sides[mid][a % 2].append((aid, rng.random() >= 0.8))  # one position in five isolated
    orders: list[Any] = []
    for mid in MIDS:
        bulls, bears = sides[mid]
        rng.shuffle(bulls)
        rng.shuffle(bears)
        for (bull, bull_iso), (bear, bear_iso) in zip(bulls, bears, strict=False):
            size, price = rng.randint(1, 90), rng.randint(950, 1_050)  # tier 1: notional <= 100,000
            for aid, iso in ((bull, bull_iso), (bear, bear_iso)):
                if iso:  # 15-25 % of the notional as its own margin
                    setup.append(C.AdjustIsolatedMargin(TS, aid, mid, size * price * rng.randint(15, 25) // 100))
            # a resting order, then the IOC that fills it
            maker, taker = (bull, bear) if rng.random() < 0.5 else (bear, bull)
            side, other = ("buy", "sell") if maker == bull else ("sell", "buy")
            orders.append(C.PlaceOrder(TS, maker, mid, side, price, size))
            orders.append(C.PlaceOrder(TS, taker, mid, other, price, size, tif="ioc"))
    return setup, orders, [f"0x{a:040x}" for a in range(n_accounts)]


def apply_all(eng: Engine, cmds: list[Any]) -> int:
    rejected = 0
    for cmd in cmds:
        if isinstance(eng.apply(cmd)[0], E.Rejected):
            rejected += 1
    return rejected


def order_rates(setup: list[Any], orders: list[Any], keep_index: bool) -> tuple[float, float]:
    """Perp orders/s (opening: every fill opens two positions; then the same orders again,
    every fill changing two existing positions)."""
    eng = Engine(PARAMS)
    apply_all(eng, setup)
    if not keep_index:
        eng.perp.index = None
    rates = []
    for _ in range(2):
        gc.collect()
        t0 = time.perf_counter()
        apply_all(eng, orders)
        rates.append(len(orders) / (time.perf_counter() - t0))
    return rates[0], rates[1]


def timed(fn, reps):  # type: ignore[no-untyped-def]
    out = []
    result = None
    for _ in range(reps):
        t0 = time.perf_counter()
        result = fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out), result


def in_turn(naive, fast, reps):  # type: ignore[no-untyped-def]
    """Both timed ``reps`` times, taking turns (this host's speed drifts over seconds): the
    median time and the last result of each. Both are reads at this point: repeating changes nothing."""
    times: tuple[list[float], list[float]] = ([], [])
    results = [None, None]
    for _ in range(reps):
        for k, fn in enumerate((naive, fast)):
            t0 = time.perf_counter()
            results[k] = fn()
            times[k].append(time.perf_counter() - t0)
    return statistics.median(times[0]), results[0], statistics.median(times[1]), results[1]


def changed_calls(upkeep_accounts: int, accounts: int) -> int:
    """``MarginIndex.changed`` calls in one steady-state pass of the upkeep flow.

    Counted by patching the method, which only the interpreted build allows; the count is
    the same in both builds (one source), so the compiled one asks an interpreted process.
    """
    if markets.engine.NATIVE:
        argv = [sys.executable, "-m", "benchmarks.w5", "--count-changed-calls"]
        argv += ["--upkeep-accounts", str(upkeep_accounts), "--accounts", str(accounts)]
        env = dict(os.environ, EXCHANGE_OS_ENGINE="interpreted")
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)  # noqa: S603 - our module
        return int(proc.stdout)
    setup, orders, _ = plan(min(upkeep_accounts, accounts))
    eng = Engine(PARAMS)
    apply_all(eng, setup + orders)
    idx = eng.perp.index
    assert idx is not None
    calls = [0]
    keep = idx.changed

    def counted(pos: Any) -> None:
        calls[0] += 1
        keep(pos)

    idx.changed = counted  # type: ignore[method-assign]
    apply_all(eng, orders)
    return calls[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=N_ACCOUNTS)
    parser.add_argument("--upkeep-accounts", type=int, default=UPKEEP_ACCOUNTS)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--count-changed-calls", action="store_true", help="print changed_calls() and stop")
    opts = parser.parse_args()
    if opts.count_changed_calls:
        print(changed_calls(opts.upkeep_accounts, opts.accounts))
        return

    # the index's upkeep: one perp order flow through engines with and without the kept index
    setup, orders, _ = plan(min(opts.upkeep_accounts, opts.accounts))
    with_index, without = [], []
    for rep in range(opts.reps):  # which one runs first alternates, so drift in the machine's load evens out
        for keep in (True, False) if rep % 2 == 0 else (False, True):
            (with_index if keep else without).append(order_rates(setup, orders, keep))
    # the upkeep alone: the calls one steady-state pass makes, each timed on the kept rows
    eng = Engine(PARAMS)
    apply_all(eng, setup + orders)
    idx = eng.perp.index
    assert idx is not None
    keep = idx.changed
    calls = [changed_calls(opts.upkeep_accounts, opts.accounts)]
    records = [pos for recs in eng.perp.domains.values() for pos in recs.values()]
    call_s = timed(lambda: [keep(pos) for pos in records], opts.reps)[0] / len(records)
    records.clear()
    open_with, open_without = (statistics.median(r[0] for r in rates) for rates in (with_index, without))
    rate_with, rate_without = (statistics.median(r[1] for r in rates) for rates in (with_index, without))
    upkeep_orders = len(orders)

    setup, orders, accounts = plan(opts.accounts)
    eng = Engine(PARAMS)
    perp = eng.perp
    t0 = time.perf_counter()
    rejected = apply_all(eng, setup + orders)
    # each account withdraws all but 0-60 % of its initial requirement: thin margins, as traders run them
    rng = random.Random(7)
    for n, aid in enumerate(accounts):
        eq, im, _ = perp.cross_margin(eng, aid, USD, TS, with_orders=True)
        amount = min(eng.accounts[aid].free_of(USD), eq - im - im * rng.randint(0, 60) // 100)
        if amount > 0:
            rejected += apply_all(eng, [C.WithdrawRequest(TS, f"w{n}", aid, USD, amount, TS + 10**9)])
    flow_s = time.perf_counter() - t0
    idx = perp.index
    assert idx is not None
    # the flow leaves moved blocks behind; an idle sequencer then calls maintain (docs/engine.md
    # "Running the engine"), which compacts them once they are an eighth of the rows
    abandoned = idx.abandoned
    maintain_s, compacted = timed(eng.maintain, 1)
    build_s, fresh = timed(lambda: MarginIndex(eng), 1)
    assert fresh.rows() == idx.rows(), "the kept index differs from a fresh build"
    del fresh
    gc.collect()
    gc.freeze()
    # the mark move: every market's oracle 16 % down; with the last trades' average the mark is ~8 % down
    ts = TS + 3_000
    for mid in MIDS:
        eng.apply(C.OraclePrice(ts, mid, 840, SRC))
    marks = [perp.mark(perp.markets[mid], eng.markets[mid], ts) for mid in MIDS]
    naive_full_s, naive, fast_full_s, fast = in_turn(
        lambda: perp.under_maintenance(eng, ts), lambda: perp.sweep(eng, ts), opts.reps
    )
    assert fast == naive, "full sweep differs from the naive sweep"
    # one tick: market 7's oracle a further 6 % down (its mark ~3 %)
    tick_mid = "M07-PERP"
    ts += 3_000
    eng.apply(C.OraclePrice(ts, tick_mid, 790, SRC))
    naive_tick_s, naive_tick, fast_tick_s, fast_tick = in_turn(
        lambda: perp.under_maintenance(eng, ts), lambda: idx.update_market(eng, tick_mid, ts), opts.reps
    )
    assert fast_tick == naive_tick, "per-tick update differs from the naive sweep"
    # the index's longest single step: a compaction, which copies every domain's block down
    # over the abandoned rows (Engine.maintain runs it between commands, once it is due)
    rows_before = idx.rows()
    compact_s, _ = timed(idx._compact, 1)
    assert idx.rows() == rows_before, "compaction changed the index"
    assert idx.update_market(eng, tick_mid, ts) == naive_tick, "the compacted index prices differently"
    print(
        json.dumps(
            {
                "accounts": opts.accounts,
                "build": "native" if markets.engine.NATIVE else "interpreted",
                "reps": opts.reps,
                "markets": N_MARKETS,
                "positions": sum(len(pm.holders) for pm in perp.markets.values()),
                "commands": len(setup) + len(orders) + len(accounts),
                "rejected": rejected,
                "flow_s": flow_s,
                "mark_after_move": [min(marks), max(marks)],
                "holders_of_tick_market": len(perp.markets[tick_mid].holders),
                "liquidatable_after_move": len(naive),
                "liquidatable_after_tick": len(naive_tick),
                "index_build_s": build_s,
                "index_rows": len(idx.mk),
                "abandoned_after_flow": abandoned,
                "maintain_compacted": compacted,
                "maintain_s": maintain_s,
                "compact_s": compact_s,
                "naive_full_s": naive_full_s,
                "fast_full_s": fast_full_s,
                "full_ratio": naive_full_s / fast_full_s,
                "naive_tick_s": naive_tick_s,
                "fast_tick_s": fast_tick_s,
                "tick_ratio": naive_tick_s / fast_tick_s,
                "upkeep_orders": upkeep_orders,
                "opening_orders_per_s_with_index": open_with,
                "opening_orders_per_s_without_index": open_without,
                "opening_upkeep_pct": (open_without / open_with - 1) * 100,
                "perp_orders_per_s_with_index": rate_with,
                "perp_orders_per_s_without_index": rate_without,
                "index_upkeep_pct": (rate_without / rate_with - 1) * 100,
                "index_calls_per_order": calls[0] / upkeep_orders,
                "index_call_us": call_s * 1e6,
                "index_upkeep_us_per_order": calls[0] / upkeep_orders * call_s * 1e6,
                "index_upkeep_pct_of_order": calls[0] / upkeep_orders * call_s * rate_without * 100,
            }
        )
    )


if __name__ == "__main__":
    main()
