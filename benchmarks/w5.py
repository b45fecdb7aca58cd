"""W5 worker: liquidation sweep over 100,000 accounts x 5 perp positions in 50 markets after a mark move.

Two questions, each timed against a naive pure-Python sweep in the same run (the engine's
own ``Perp.under_maintenance``, which prices every position of every domain from scratch):

- full sweep: every market's mark moved; ``MarginIndex`` builds every domain's health with
  each market's mark computed once;
- per tick: one market's mark moved; ``MarginIndex.update_market`` re-prices only that
  market's holders (~10,000 domains) and adjusts their totals.

Positions are written straight into the state (100,000 x 5 fills through ``apply`` would
only time the matching engine). Usage: python -m benchmarks.w5 [--accounts N] -> one JSON line.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import time

from markets.engine import Engine
from markets.engine import commands as C
from markets.engine.params import ProtocolParams
from markets.engine.perp import Position
from markets.engine.sweep import MarginIndex

N_ACCOUNTS = 100_000
N_MARKETS = 50
PER_ACCOUNT = 5
TS = 50_000
USD = "USD"
BOND = 1_000 * 10**18  # the launch minimum for perp markets (checked at launch only, not measured)


def setup(n_accounts: int) -> Engine:
    rng = random.Random(5)
    eng = Engine(ProtocolParams(oracle_max_move_bps=10_000))
    mids = [f"M{i:02d}-PERP" for i in range(N_MARKETS)]
    for mid in mids:
        spec = C.LaunchMarket(1, mid, "perp", mid[:3], USD, 1, 1, 1, 0, 0, 0, "0xdeployer")
        spec = spec._replace(
            margin_tiers="100000:1000:500,1000000:2000:1000,0:5000:2500",
            collateral_weight_bps=rng.choice([5_000, 8_000, 10_000]),
            oracle_source="push:0xoraclekey",
            oi_cap=10**12,
            account_oi_cap=10**9,
            bond=BOND,
        )
        eng.apply(spec)
        pm = eng.perp.markets[mid]
        pm.oracle, pm.oracle_ts = 1_000, TS
        pm.trades = [1_000]
    for a in range(n_accounts):
        aid = f"0x{a:040x}"
        acct = eng._account(aid)
        acct.free[USD], acct.reserved[USD] = rng.randint(1_000, 50_000), 0
        for mid in rng.sample(mids, PER_ACCOUNT):
            pos = Position(aid, mid, "cross" if rng.random() < 0.8 else "isolated")
            pos.size = rng.choice([-1, 1]) * rng.randint(1, 100)
            pos.cash = -pos.size * rng.randint(950, 1_050)
            if pos.mode == "isolated":
                pos.margin = rng.randint(5_000, 20_000)
            eng.perp.domains.setdefault(aid, {})[mid] = pos
            eng.perp.markets[mid].holders[aid] = pos
    return eng


def timed(fn, reps):  # type: ignore[no-untyped-def]
    out = []
    result = None
    for _ in range(reps):
        t0 = time.perf_counter()
        result = fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=N_ACCOUNTS)
    parser.add_argument("--reps", type=int, default=3)
    opts = parser.parse_args()
    eng = setup(opts.accounts)
    gc.collect()
    gc.freeze()
    perp = eng.perp
    # the index is built once before the move (derived data a sweeper keeps); its build is timed too
    build_s, idx = timed(lambda: MarginIndex(eng, TS), 1)
    # the mark move: every market's oracle and trades 4 % down
    for pm in perp.markets.values():
        pm.oracle = pm.trades[0] = 960
    naive_full_s, naive = timed(lambda: perp.under_maintenance(eng, TS), 1)
    fast_full_s, fast = timed(idx.sweep, opts.reps)
    assert fast == naive, "full sweep differs from the naive sweep"
    # one tick: market 7's mark moves a further 3 % down
    pm = perp.markets["M07-PERP"]
    pm.oracle = pm.trades[0] = 931
    naive_tick_s, naive_tick = timed(lambda: perp.under_maintenance(eng, TS), 1)
    fast_tick_s, fast_tick = timed(lambda: idx.update_market("M07-PERP"), opts.reps)
    assert fast_tick == naive_tick, "per-tick update differs from the naive sweep"
    print(
        json.dumps(
            {
                "accounts": opts.accounts,
                "markets": N_MARKETS,
                "positions": opts.accounts * PER_ACCOUNT,
                "holders_of_tick_market": len(pm.holders),
                "liquidatable_after_move": len(naive),
                "liquidatable_after_tick": len(naive_tick),
                "index_build_s": build_s,
                "naive_full_s": naive_full_s,
                "fast_full_s": fast_full_s,
                "full_ratio": naive_full_s / fast_full_s,
                "naive_tick_s": naive_tick_s,
                "fast_tick_s": fast_tick_s,
                "tick_ratio": naive_tick_s / fast_tick_s,
            }
        )
    )


if __name__ == "__main__":
    main()
