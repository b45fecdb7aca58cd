"""Margin arithmetic: account ids and margin domains, margin tiers, requirements and weights.

Pure functions on ints. Rounding is always in the protocol's favour: requirements round up
(``ceil``), equity and profit round down (``floor``). Python's ``//`` floors, so
``-((-a) // b)`` is ``ceil(a / b)`` for ``b > 0``.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "BPS",
    "MarginTier",
    "account_owner",
    "parse_account",
    "parse_tiers",
    "format_tiers",
    "tier_for",
    "requirement",
    "ceil_div",
    "weighted_pnl",
]

BPS: Final = 10_000
SYSTEM_PREFIX: Final = "sys:"

# (notional cap in collateral minor units, 0 = no cap; initial bps; maintenance bps)
MarginTier = tuple[int, int, int]


def ceil_div(a: int, b: int) -> int:
    """ceil(a / b) for b > 0."""
    return -((-a) // b)


def parse_account(account_id: str, max_subaccounts: int) -> tuple[str, int] | None:
    """``"<address>"`` -> (address, 0); ``"<address>:<n>"`` -> (address, n), 1 <= n <= max.

    None for a system id, an empty owner, or a malformed or out-of-range sub-account number
    (no sign, no leading zero).
    """
    if not account_id or account_id.startswith(SYSTEM_PREFIX):
        return None
    owner, sep, num = account_id.partition(":")
    if not owner:
        return None
    if not sep:
        return owner, 0
    if not num.isdigit() or not num.isascii() or num[0] == "0":
        return None
    n = int(num)
    if n > max_subaccounts:
        return None
    return owner, n


def account_owner(account_id: str) -> str:
    """The wallet that owns a (sub-)account id: the part before the first ``:``."""
    return account_id.partition(":")[0]


def parse_tiers(text: str, max_tiers: int) -> list[MarginTier]:
    """Parse ``"cap:im_bps:mm_bps,..."``; raise ValueError with the reason if invalid.

    Rules: 1..max_tiers tiers; caps strictly increasing, the last one 0 (no cap) and only the
    last; ``0 < mm_bps < im_bps <= 10000``; both rates non-decreasing from tier to tier (the
    requirement rises with size).
    """
    if not text:
        raise ValueError("margin_tiers must not be empty")
    tiers: list[MarginTier] = []
    for part in text.split(","):
        bits = part.split(":")
        if len(bits) != 3 or not all(b.isdigit() and b.isascii() for b in bits):
            raise ValueError(f"margin tier {part!r} is not cap:im_bps:mm_bps")
        cap, im, mm = (int(b) for b in bits)
        tiers.append((cap, im, mm))
    if len(tiers) > max_tiers:
        raise ValueError(f"at most {max_tiers} margin tiers")
    prev_cap, prev_im, prev_mm = 0, 0, 0
    for i, (cap, im, mm) in enumerate(tiers):
        last = i == len(tiers) - 1
        if last != (cap == 0):
            raise ValueError("only the last margin tier has cap 0 (no cap), and it must")
        if not last and cap <= prev_cap:
            raise ValueError("margin tier caps must increase")
        if not 0 < mm < im <= BPS:
            raise ValueError("each tier needs 0 < mm_bps < im_bps <= 10000")
        if im < prev_im or mm < prev_mm:
            raise ValueError("margin rates must not fall as the tier rises")
        prev_cap, prev_im, prev_mm = cap, im, mm
    return tiers


def format_tiers(tiers: list[MarginTier]) -> str:
    return ",".join(f"{cap}:{im}:{mm}" for cap, im, mm in tiers)


def tier_for(tiers: list[MarginTier], notional: int) -> MarginTier:
    """The tier of a position of this notional: the first whose cap is >= it (cap 0 = any)."""
    for tier in tiers:
        if tier[0] == 0 or notional <= tier[0]:
            return tier
    return tiers[-1]  # pragma: no cover - the last cap is 0


def requirement(tiers: list[MarginTier], notional: int) -> tuple[int, int]:
    """(initial, maintenance) margin of a position of this absolute notional, rounded up.

    The whole position is margined at its tier's rates; since rates never fall as the tier
    rises, the requirement never falls as the position grows.
    """
    _, im, mm = tier_for(tiers, notional)
    return ceil_div(notional * im, BPS), ceil_div(notional * mm, BPS)


def weighted_pnl(pnl: int, weight_bps: int) -> int:
    """A profit counts after its weight, rounded down; a loss counts in full."""
    if pnl <= 0:
        return pnl
    return pnl * weight_bps // BPS
