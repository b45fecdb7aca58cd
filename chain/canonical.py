"""Canonical JSON of a market spec and its spec hash (what MarketRegistry.register_market stakes).

Pure: no Django, no I/O. The form is written down, with a fixed test vector, in docs/contracts.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from eth_utils import keccak


class CanonicalJSONError(ValueError):
    """The value cannot be put in canonical form (a non-integer number, a non-ASCII or non-string key, ...)."""


def _check(value: Any, path: str) -> None:
    # bool is a subclass of int: accept it as JSON true/false, never as a number.
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalJSONError(f"{path}: keys must be strings, got {type(key).__name__} {key!r}")
            if not key.isascii():
                raise CanonicalJSONError(f"{path}: keys must be ASCII, got {key!r}")
            _check(item, f"{path}.{key}")
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")
        return
    if isinstance(value, (float, Decimal)):
        raise CanonicalJSONError(
            f"{path}: only integers are allowed in a spec, got {type(value).__name__} {value!r}; "
            "use integer minor units (ticks, lots, bps)"
        )
    raise CanonicalJSONError(f"{path}: unsupported type {type(value).__name__}")


def canonical_json(obj: Any) -> bytes:
    """UTF-8 JSON with keys sorted, no whitespace, integers only.

    Objects, arrays, strings, integers, true/false and null are allowed; floats and
    Decimals raise CanonicalJSONError (a spec carries integer minor units).
    """
    _check(obj, "$")
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def spec_hash(obj: Any) -> bytes:
    """keccak-256 of canonical_json(obj): the 32 bytes passed to register_market."""
    return keccak(canonical_json(obj))
