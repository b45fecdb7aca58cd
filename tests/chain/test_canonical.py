"""Canonical JSON and spec hash: the fixed vector of docs/contracts.md, and what is refused."""

from decimal import Decimal

import pytest

from chain.canonical import CanonicalJSONError, canonical_json, spec_hash
from tests.chain._vectors import vectors


def test_fixed_vector():
    assert canonical_json(vectors.SPEC) == vectors.SPEC_CANONICAL
    assert "0x" + spec_hash(vectors.SPEC).hex() == vectors.SPEC_HASH


def test_key_order_and_whitespace_do_not_matter():
    assert canonical_json({"b": 1, "a": {"d": [1, 2], "c": None}}) == b'{"a":{"c":null,"d":[1,2]},"b":1}'
    assert spec_hash({"x": 1, "y": 2}) == spec_hash({"y": 2, "x": 1})


def test_big_and_negative_integers_stay_exact():
    assert (
        canonical_json({"n": -(2**255), "m": 10**30})
        == b'{"m":1000000000000000000000000000000,"n":-' + str(2**255).encode() + b"}"
    )


@pytest.mark.parametrize(
    "value, message",
    [
        ({"price": 1.5}, "only integers"),
        ({"price": Decimal("1.5")}, "only integers"),
        ({"price": Decimal("1")}, "only integers"),
        ({"p": [float("nan")]}, "only integers"),
        ({1: "x"}, "keys must be strings"),
        ({"caf\u00e9": 1}, "keys must be ASCII"),
        ({"b": b"\x00"}, "unsupported type"),
    ],
)
def test_refused(value, message):
    with pytest.raises(CanonicalJSONError, match=message):
        canonical_json(value)


def test_booleans_are_json_booleans_not_numbers():
    assert canonical_json({"a": True, "b": False}) == b'{"a":true,"b":false}'
