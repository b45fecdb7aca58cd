"""A mixed flow (spot, prediction, perp) and a digest of what the engine makes of it, for test_native.py.

Run as ``python -m tests.markets.engine.native_flow``: prints the build in use, the events'
digest and the state hash, as JSON.
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

import markets.engine
from markets.engine import Engine
from markets.engine import commands as C

from . import test_perp_codec, test_prediction_codec


def spot_and_binary_commands(n: int = 3_000) -> list[Any]:
    """Crossing and resting orders from 40 accounts on a spot and a binary market, with cancels and expiries."""
    rng = random.Random(1313)
    cmds: list[Any] = [
        C.LaunchMarket(1, "S-USD", "spot", "S", "USD", 1, 1, 1, -1, 5, 2_000, "0xdep", bond=10**20),
        C.LaunchMarket(
            1, "BIN", "prediction", "", "USD", 100, 10_000, 1, 0, 5, 2_000, "0xdep",
            close_ts=10**9, resolver="0xres", dispute_window_ms=7_200_000, dispute_bond=10**6, bond=5 * 10**20,
        ),
    ]  # fmt: skip
    accounts = [f"0x{a:040x}" for a in range(40)]
    for i, a in enumerate(accounts):
        cmds += [C.DepositCredit(1, f"u{i}", a, "USD", 10**12), C.DepositCredit(1, f"s{i}", a, "S", 10**9)]
    for i in range(n):
        ts = 2 + i
        a = rng.choice(accounts)
        roll = rng.random()
        if roll < 0.05:
            cmds.append(C.CancelAll(ts, a))
        elif roll < 0.5:
            side = rng.choice(("buy", "sell"))
            tif = rng.choice(("gtc", "gtc", "ioc", "post_only", "fok"))
            stp = rng.choice(("cancel_resting", "cancel_taking", "cancel_both"))
            expiry = ts + rng.randint(1, 50) if rng.random() < 0.2 else 0
            price = 1_000 + rng.randint(-20, 20)
            cmds.append(
                C.PlaceOrder(ts, a, "S-USD", side, price, rng.randint(1, 30), tif=tif, stp=stp, expiry_ts=expiry)
            )
        else:
            outcome = rng.choice(("yes", "no"))
            cmds.append(C.PlaceOrder(ts, a, "BIN", "buy", rng.randint(1, 99), rng.randint(1, 30), outcome=outcome))
    cmds.append(C.ExpireOrders(n + 100, "S-USD"))
    return cmds


def digest() -> dict[str, Any]:
    events = hashlib.sha256()
    hashes = []
    flows = [
        (Engine(), spot_and_binary_commands()),
        (Engine(), test_prediction_codec.sample_commands()),
        (Engine(test_perp_codec.FAST), test_perp_codec.sample_commands()),
    ]
    for eng, flow in flows:
        for cmd in flow:
            events.update(repr(eng.apply(cmd)).encode())
        hashes.append(eng.state_hash())
    return {"native": markets.engine.NATIVE, "events": events.hexdigest(), "state_hashes": hashes}


if __name__ == "__main__":
    print(json.dumps(digest()))
