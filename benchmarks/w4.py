"""W4 worker: the whole state machine (Engine.apply: checks, reservations, fees, events).

The shared flow is spread over 10,000 funded accounts and 20 spot markets with fees.
Usage: python -m benchmarks.w4 FLOW_JSON  -> prints one JSON line.
"""

from __future__ import annotations

import json
import random
import sys
import time
from typing import Any

import markets.engine
from markets.engine import Engine
from markets.engine import commands as C
from markets.engine.runtime import COLLECT_EVERY, collect_garbage, start_sequencer_gc

N_ACCOUNTS = 10_000
N_MARKETS = 20
QUOTE = "USDC"
BOND = 100 * 10**18  # the launch minimum for spot markets (checked at launch only, not measured)
QUOTE_EACH = 10**15
BASE_EACH = 10**12


def setup() -> tuple[Engine, dict[str, int]]:
    eng = Engine()
    totals: dict[str, int] = {}
    for m in range(N_MARKETS):
        spec = C.LaunchMarket(1, f"M{m}-USDC", "spot", f"M{m}", QUOTE, 1, 1, 1, -1, 5, 2000, f"0xdeployer{m % 4}")
        eng.apply(spec._replace(bond=BOND))
    for a in range(N_ACCOUNTS):
        acct = f"0x{a:040x}"
        eng.apply(C.DepositCredit(1, f"dq{a}", acct, QUOTE, QUOTE_EACH))
        for m in range(N_MARKETS):
            eng.apply(C.DepositCredit(1, f"db{a}-{m}", acct, f"M{m}", BASE_EACH))
    totals[QUOTE] = N_ACCOUNTS * QUOTE_EACH
    for m in range(N_MARKETS):
        totals[f"M{m}"] = N_ACCOUNTS * BASE_EACH
    return eng, totals


def build(flow: list[list[int]]) -> list[Any]:
    rng = random.Random(7)
    cmds = []
    for i, (is_buy, price, size) in enumerate(flow):
        acct = f"0x{rng.randrange(N_ACCOUNTS):040x}"
        market = f"M{rng.randrange(N_MARKETS)}-USDC"
        cmds.append(C.PlaceOrder(2 + i // 1000, acct, market, "buy" if is_buy else "sell", price, size))
    return cmds


def main() -> None:
    with open(sys.argv[1]) as fh:
        flow = json.load(fh)
    eng, totals = setup()
    cmds = build(flow)
    start_sequencer_gc()  # as the sequencer does after restore (docs/engine.md "Running the engine")
    apply = eng.apply
    n_events = 0
    t0 = time.perf_counter()
    # the sequencer's collection every COLLECT_EVERY commands is inside the timing
    for start in range(0, len(cmds), COLLECT_EVERY):
        for cmd in cmds[start : start + COLLECT_EVERY]:
            n_events += len(apply(cmd))
        collect_garbage()
    dt = time.perf_counter() - t0
    # sanity, outside the timing: nothing rejected, ledger conserved
    seen: dict[str, int] = {}
    for acct in eng.accounts.values():
        for asset, b in acct.bal.items():
            seen[asset] = seen.get(asset, 0) + b.free + b.reserved
    assert seen == totals, "conservation broken"
    assert eng.next_order_id - 1 == len(cmds), "some orders were rejected"
    print(
        json.dumps(
            {
                "engine": "ours-engine",
                "build": "native" if markets.engine.NATIVE else "interpreted",
                "orders": len(cmds),
                "seconds": dt,
                "orders_per_s": len(cmds) / dt,
                "events": n_events,
                "resting_orders": len(eng.orders),
                "accounts": N_ACCOUNTS,
                "markets": N_MARKETS,
            }
        )
    )


if __name__ == "__main__":
    main()
