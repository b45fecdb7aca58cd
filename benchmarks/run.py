"""Benchmark driver: W1 (bare matching vs peers) and W4 (whole state machine).

Run from the repository root:  python -m benchmarks.run [--reps N] [--orders N]

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

from benchmarks.flow import N_ORDERS, SEED, generate

ROOT = Path(__file__).resolve().parent.parent
W1_ENGINES = ["ours", "lightmatchingengine", "cython-orderbook"]


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
    opts = parser.parse_args()

    flow = generate(opts.orders, SEED)
    engines = ["ours"] if opts.skip_peers else W1_ENGINES
    w1: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    w4: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "flow.json")
        with open(path, "w") as fh:
            json.dump([[int(b), p, s] for b, p, s in flow], fh)
        latency = worker(["-m", "benchmarks.w1", "ours", path, "--latency"])
        for rep in range(opts.reps):
            for engine in engines:
                w1[engine].append(worker(["-m", "benchmarks.w1", engine, path]))
            w4.append(worker(["-m", "benchmarks.w4", path]))
            print(f"rep {rep + 1}/{opts.reps} done", file=sys.stderr)

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
        "w1_p50_us": latency["p50_us"],
        "w1_p99_us": latency["p99_us"],
        "w4_orders_per_s": round(w4_rate),
        "w4_events": w4[0]["events"],
    }
    share = latency["crossing_share"]
    print(f"W1 matching only: {opts.orders} limit orders, {share:.1%} crossing, median of {opts.reps}")
    for e in engines:
        line = f"  {e:<20} {rate[e]:>12,.0f} orders/s   filled {filled[e]:,} lots"
        if e != "ours":
            ratio = rate["ours"] / rate[e]
            results[f"w1_ratio_vs_{e}"] = round(ratio, 2)
            line += f"   ours is {ratio:.2f}x"
        print(line)
    print(f"  ours per-order latency: p50 {latency['p50_us']:.2f} us, p99 {latency['p99_us']:.2f} us")
    print(f"W4 Engine.apply, 10,000 accounts x 20 markets: {w4_rate:,.0f} orders/s")
    if "lightmatchingengine" in rate:
        ratio = w4_rate / rate["lightmatchingengine"]
        results["w4_ratio_vs_lightmatchingengine"] = round(ratio, 2)
        print(f"  vs lightmatchingengine bare matching: {ratio:.2f}x")
    print("BENCH_JSON " + json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()
