"""Exact conversions between human Decimal amounts and the engine's integer units.

This is the only module of the engine that touches Decimal. Every conversion is exact:
if the value cannot be represented in the target unit it raises ``PrecisionError``
instead of rounding.
"""

from __future__ import annotations

from decimal import Decimal, Inexact, InvalidOperation, Rounded, localcontext

__all__ = [
    "PrecisionError",
    "to_minor",
    "from_minor",
    "price_to_ticks",
    "ticks_to_price",
    "size_to_lots",
    "lots_to_size",
]


class PrecisionError(ValueError):
    """Raised when a conversion would lose precision or the input is not a finite number."""


_PREC = 200  # digits; far beyond any token amount, and Inexact/Rounded trap anyway


def _div(a: Decimal, b: Decimal, what: str) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = _PREC
        ctx.traps[Inexact] = True
        ctx.traps[Rounded] = True
        try:
            return a / b
        except (Inexact, Rounded, InvalidOperation) as exc:
            raise PrecisionError(f"{what}: not exact") from exc


def _scale(a: Decimal, places: int, what: str) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = _PREC
        ctx.traps[Inexact] = True
        ctx.traps[Rounded] = True
        try:
            return a.scaleb(places)
        except (Inexact, Rounded, InvalidOperation) as exc:
            raise PrecisionError(f"{what}: not exact") from exc


def _exact_int(value: Decimal, what: str) -> int:
    if not isinstance(value, Decimal):
        raise TypeError(f"{what}: expected Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise PrecisionError(f"{what}: {value} is not finite")
    try:
        integral = value.to_integral_value()
    except InvalidOperation as exc:  # pragma: no cover - defensive
        raise PrecisionError(f"{what}: {value}") from exc
    if integral != value:
        raise PrecisionError(f"{what}: {value} is not a whole number of units")
    return int(integral)


def to_minor(amount: Decimal, decimals: int) -> int:
    """Token amount (e.g. Decimal('1.5')) -> minor units for a token with `decimals` places."""
    if decimals < 0:
        raise ValueError("decimals must be >= 0")
    what = f"amount {amount} with {decimals} decimals"
    return _exact_int(_scale(amount, decimals, what), what)


def from_minor(minor: int, decimals: int) -> Decimal:
    """Minor units -> exact Decimal token amount."""
    if decimals < 0:
        raise ValueError("decimals must be >= 0")
    return _scale(Decimal(minor), -decimals, f"minor {minor}")


def price_to_ticks(price: Decimal, tick: Decimal) -> int:
    """A display price (quote per base) -> integer ticks; raises if off tick."""
    if tick <= 0:
        raise ValueError("tick must be positive")
    what = f"price {price} on tick {tick}"
    return _exact_int(_div(price, tick, what), what)


def ticks_to_price(ticks: int, tick: Decimal) -> Decimal:
    """Integer ticks -> display price."""
    return tick * ticks


def size_to_lots(size: Decimal, lot: Decimal) -> int:
    """A display size (base units) -> integer lots; raises if not a whole number of lots."""
    if lot <= 0:
        raise ValueError("lot must be positive")
    what = f"size {size} in lots of {lot}"
    return _exact_int(_div(size, lot, what), what)


def lots_to_size(lots: int, lot: Decimal) -> Decimal:
    """Integer lots -> display size."""
    return lot * lots
