"""Deterministic order flow shared by every benchmark engine (no engine-specific logic here)."""

from __future__ import annotations

import random
from typing import NamedTuple

SEED = 20260405
N_ORDERS = 200_000


class FlowOrder(NamedTuple):
    is_buy: bool
    price: int  # ticks
    size: int  # lots


def generate(n: int = N_ORDERS, seed: int = SEED, mid: int = 10_000) -> list[FlowOrder]:
    """Limit orders around a slowly drifting mid; about 30 % of them cross the spread.

    45 % are priced 0..5 ticks through the mid, the rest 1..50 ticks behind it; about 30 %
    of all orders end up trading.
    """
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        if rng.random() < 0.02:
            mid += rng.choice((-1, 1))
        is_buy = rng.random() < 0.5
        # aggressive: 0..5 ticks through the mid; passive: 1..50 ticks behind it
        off = rng.randint(0, 5) if rng.random() < 0.45 else -rng.randint(1, 50)
        price = mid + off if is_buy else mid - off
        out.append(FlowOrder(is_buy, price, rng.randint(1, 100)))
    return out
