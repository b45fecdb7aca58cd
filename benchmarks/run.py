"""Benchmark driver: W1 (bare matching vs peers), W4 (whole state machine), W3 (prediction market vs pyclob),
W5 (liquidation sweep over 100,000 accounts x 5 perp positions).

Run from the repository root:
python -m benchmarks.run [--reps N] [--orders N] [--w3-only | --skip-w3] [--w5-only | --skip-w5]

Every engine runs in a fresh subprocess per repetition, on the identical order flow
(generated once, written to a temp file). Repetitions are interleaved (ours, peers, ours,
...) so background load hits all engines alike; figures are medians. The last line is
``BENCH_JSON {...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import w3 as w3flow
from benchmarks.flow import N_ORDERS, SEED, generate

ROOT = Path(__file__).resolve().parent.parent
W1_ENGINES = ["ours", "lightmatchingengine", "cython-orderbook"]
W3_ENGINES = ["ours", "pyclob", "ours-book", "ours-e2e", "pyclob-e2e"]


def worker(args: list[str]) -> dict[str, Any]:
    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark worker {args} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--orders", type=int, default=N_ORDERS)
    parser.add_argument("--skip-peers", action="store_true", help="only our engine (peers not installed)")
    parser.add_argument("--skip-w3", action="store_true", help="leave out W3 (prediction market vs pyclob)")
    parser.add_argument("--w3-only", action="store_true", help="run W3 only")
    parser.add_argument("--skip-w5", action="store_true", help="leave out W5 (liquidation sweep)")
    parser.add_argument("--w5-only", action="store_true", help="run W5 only")
    opts = parser.parse_args()
    if opts.w5_only:
        print("BENCH_JSON " + json.dumps(run_w5(), sort_keys=True))
        return
    if opts.w3_only:
        results: dict[str, Any] = {"orders": opts.orders, "reps": opts.reps}
        results.update(run_w3(opts.orders, opts.reps, opts.skip_peers))
        print("BENCH_JSON " + json.dumps(results, sort_keys=True))
        return

    flow = generate(opts.orders, SEED)
    engines = ["ours"] if opts.skip_peers else W1_ENGINES
    w1: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    w4: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "flow.json")
        with open(path, "w") as fh:
            json.dump([[int(b), p, s] for b, p, s in flow], fh)
        lat: list[dict[str, Any]] = []
        for rep in range(opts.reps):
            # the latency pass is repeated too: one run's p99 is at the mercy of a slow moment
            lat.append(worker(["-m", "benchmarks.w1", "ours", path, "--latency"]))
            # W4 runs right beside lightmatchingengine, its yardstick, before it in one rep and after
            # it in the next: this host's speed drifts over seconds, and a drift then favours neither
            order = [e for e in engines if e != "lightmatchingengine"] + ["lightmatchingengine", "w4"]
            if rep % 2:
                order[-2:] = ["w4", "lightmatchingengine"]
            for engine in order:
                if engine == "w4":
                    w4.append(worker(["-m", "benchmarks.w4", path]))
                elif engine in w1:
                    w1[engine].append(worker(["-m", "benchmarks.w1", engine, path]))
            print(f"rep {rep + 1}/{opts.reps} done", file=sys.stderr)
    latency = {k: statistics.median(r[k] for r in lat) for k in ("p50_us", "p99_us", "crossing_share")}
    p99_range = (min(r["p99_us"] for r in lat), max(r["p99_us"] for r in lat))

    rate = {e: statistics.median(r["orders_per_s"] for r in runs) for e, runs in w1.items()}
    filled = {e: runs[0]["filled_lots"] for e, runs in w1.items()}
    w4_rate = statistics.median(r["orders_per_s"] for r in w4)
    results: dict[str, Any] = {
        "orders": opts.orders,
        "seed": SEED,
        "reps": opts.reps,
        "crossing_share": round(latency["crossing_share"], 4),
        "w1_orders_per_s": {e: round(v) for e, v in rate.items()},
        "w1_filled_lots": filled,
        "w1_p50_us": round(latency["p50_us"], 3),
        "w1_p99_us": round(latency["p99_us"], 3),
        "w1_p99_us_range": [round(v, 3) for v in p99_range],
        "w4_orders_per_s": round(w4_rate),
        "w4_events": w4[0]["events"],
    }
    results["engine_build"] = w4[0]["build"]
    print(f'Our engine: the {w4[0]["build"]} build (docs/engine.md "Running the engine")')
    share = latency["crossing_share"]
    print(f"W1 matching only: {opts.orders} limit orders, {share:.1%} crossing, median of {opts.reps}")
    for e in engines:
        line = f"  {e:<20} {rate[e]:>12,.0f} orders/s   filled {filled[e]:,} lots"
        if e != "ours":
            ratio = rate["ours"] / rate[e]
            results[f"w1_ratio_vs_{e}"] = round(ratio, 2)
            line += f"   ours is {ratio:.2f}x"
        print(line)
    print(
        f"  ours per-order latency (median of {opts.reps} passes): p50 {latency['p50_us']:.2f} us, "
        f"p99 {latency['p99_us']:.2f} us (passes ranged {p99_range[0]:.2f}-{p99_range[1]:.2f} us)"
    )
    print(f"W4 Engine.apply, 10,000 accounts x 20 markets: {w4_rate:,.0f} orders/s")
    if "lightmatchingengine" in rate:
        ratio = w4_rate / rate["lightmatchingengine"]
        results["w4_ratio_vs_lightmatchingengine"] = round(ratio, 2)
        paired = _paired(w4, w1["lightmatchingengine"])
        results["w4_paired_ratios_vs_lightmatchingengine"] = paired
        print(f"  vs lightmatchingengine bare matching: {ratio:.2f}x (ratio of the medians)")
        print(f"  each rep's W4 over the same rep's lightmatchingengine: {_fmt(paired)}")
    if not opts.skip_w3:
        results.update(run_w3(opts.orders, opts.reps, opts.skip_peers))
    if not opts.skip_w5:
        results.update(run_w5())
    print("BENCH_JSON " + json.dumps(results, sort_keys=True))


def _paired(ours: list[dict[str, Any]], peer: list[dict[str, Any]]) -> list[float]:
    """Rep by rep ratios, sorted. This host's speed drifts over seconds, so runs close in time
    are the fairer pair; the spread shows how far one run's ratio can be trusted."""
    return sorted(round(a["orders_per_s"] / b["orders_per_s"], 2) for a, b in zip(ours, peer, strict=True))


def _fmt(ratios: list[float]) -> str:
    each = ", ".join(map(str, ratios))
    return f"median {statistics.median(ratios):.2f}x, range {ratios[0]:.2f}-{ratios[-1]:.2f}x ({each})"


def run_w5() -> dict[str, Any]:
    """W5: every domain's maintenance health after a mark move, the kept index vs the naive sweep."""
    r = worker(["-m", "benchmarks.w5"])
    print(
        f"W5 liquidation sweep, {r['accounts']:,} accounts x 5 positions over {r['markets']} markets, "
        f"opened through Engine.apply ({r['liquidatable_after_move']:,} liquidatable after the mark move), "
        f"our {r['build']} build"
    )
    print(
        f"  full sweep (each a median of {r['reps']}, taking turns): naive {r['naive_full_s'] * 1e3:,.0f} ms, "
        f"kept index {r['fast_full_s'] * 1e3:,.0f} ms: "
        f"{r['full_ratio']:.1f}x (target 5x); a fresh build would take {r['index_build_s'] * 1e3:,.0f} ms"
    )
    print(
        f"  Engine.maintain() after the flow ({r['abandoned_after_flow']:,} abandoned rows): "
        f"{'compacted' if r['maintain_compacted'] else 'nothing due'} in {r['maintain_s'] * 1e3:,.0f} ms; "
        f"a compaction of all {r['index_rows']:,} rows takes {r['compact_s'] * 1e3:,.0f} ms"
    )
    print(
        f"  one market's tick ({r['holders_of_tick_market']:,} holders): naive {r['naive_tick_s'] * 1e3:,.0f} ms, "
        f"index {r['fast_tick_s'] * 1e3:,.1f} ms: {r['tick_ratio']:.0f}x"
    )
    print(
        f"  upkeep: perp orders/s {r['perp_orders_per_s_with_index']:,.0f} with the index, "
        f"{r['perp_orders_per_s_without_index']:,.0f} without ({r['index_upkeep_pct']:+.1f} %); "
        f"{r['index_calls_per_order']:.2f} calls/order x {r['index_call_us']:.2f} us = "
        f"{r['index_upkeep_pct_of_order']:.1f} % of an order"
    )
    return {
        "w5_accounts": r["accounts"],
        "w5_engine_build": r["build"],
        "w5_naive_full_ms": round(r["naive_full_s"] * 1e3, 1),
        "w5_fast_full_ms": round(r["fast_full_s"] * 1e3, 1),
        "w5_full_ratio": round(r["full_ratio"], 2),
        "w5_index_build_ms": round(r["index_build_s"] * 1e3, 1),
        "w5_compact_ms": round(r["compact_s"] * 1e3, 1),
        "w5_maintain_ms": round(r["maintain_s"] * 1e3, 1),
        "w5_abandoned_after_flow": r["abandoned_after_flow"],
        "w5_naive_tick_ms": round(r["naive_tick_s"] * 1e3, 1),
        "w5_fast_tick_ms": round(r["fast_tick_s"] * 1e3, 2),
        "w5_tick_ratio": round(r["tick_ratio"], 1),
        "w5_liquidatable": r["liquidatable_after_move"],
        "w5_perp_orders_per_s_with_index": round(r["perp_orders_per_s_with_index"]),
        "w5_perp_orders_per_s_without_index": round(r["perp_orders_per_s_without_index"]),
        "w5_index_upkeep_pct": round(r["index_upkeep_pct"], 1),
        "w5_index_call_us": round(r["index_call_us"], 2),
        "w5_index_upkeep_pct_of_order": round(r["index_upkeep_pct_of_order"], 1),
    }


def run_w3(n_orders: int, reps: int, skip_peers: bool) -> dict[str, Any]:
    """W3: one 1-99 cent binary market; our Engine.apply path, our bare book, and pyclob."""
    engines = [e for e in W3_ENGINES if not (skip_peers and e.startswith("pyclob"))]
    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "w3flow.json")
        with open(path, "w") as fh:
            json.dump([[int(b), p, s] for b, p, s in w3flow.generate(n_orders, w3flow.SEED)], fh)
        for rep in range(reps):
            for engine in engines:
                runs[engine].append(worker(["-m", "benchmarks.w3", engine, path]))
            print(f"W3 rep {rep + 1}/{reps} done", file=sys.stderr)
    rate = {e: statistics.median(r["orders_per_s"] for r in rs) for e, rs in runs.items()}
    out: dict[str, Any] = {
        "w3_seed": w3flow.SEED,
        "w3_orders_per_s": {e: round(v) for e, v in rate.items()},
        "w3_filled_lots": {e: rs[0]["filled_lots"] for e, rs in runs.items()},
        "w3_events": runs["ours"][0]["events"],
        "w3_what": "ours = whole Engine.apply path for prediction orders; ours-book = bare book only",
    }
    out["w3_engine_build"] = runs["ours"][0]["build"]
    print(
        f"W3 prediction market, {n_orders} orders on a 1-99 cent binary market, 1,000 accounts, median of {reps}"
        f" (our {out['w3_engine_build']} build)"
    )
    labels = {
        "ours": "ours: Engine.apply (whole path)",
        "pyclob": "pyclob: place_order + accounts",
        "ours-book": "ours: bare book only",
        "ours-e2e": "ours, inputs built in the loop",
        "pyclob-e2e": "pyclob, inputs built in the loop",
    }
    for e in engines:
        print(f"  {labels[e]:<34} {rate[e]:>12,.0f} orders/s   filled {out['w3_filled_lots'][e]:,} lots")
    if "pyclob" in rate:
        ratio = rate["ours"] / rate["pyclob"]
        out["w3_ratio_vs_pyclob"] = round(ratio, 2)
        book_ratio = rate["ours-book"] / rate["pyclob"]
        out["w3_book_ratio_vs_pyclob"] = round(book_ratio, 2)
        print(f"  Engine.apply vs pyclob: {ratio:.2f}x (target 4x); bare book vs pyclob: {book_ratio:.2f}x")
        paired = _paired(runs["ours"], runs["pyclob"])
        out["w3_paired_ratios_vs_pyclob"] = paired
        print(f"  each rep's Engine.apply over the same rep's pyclob: {_fmt(paired)}")
        e2e = rate["ours-e2e"] / rate["pyclob-e2e"]
        out["w3_e2e_ratio_vs_pyclob"] = round(e2e, 2)
        print(f"  with each engine's order input built in the timed loop: {e2e:.2f}x")
    return out


if __name__ == "__main__":
    main()
