"""LaunchMarket needs at least the kind's minimum bond, as the MarketRegistry does on chain."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from markets.engine import Engine, RejectReason
from markets.engine import commands as C
from markets.engine import events as E
from markets.engine.params import DEFAULT_PARAMS, ProtocolParams

from .conftest import spot_spec
from .perp_helpers import perp_spec
from .pred_helpers import pred_spec

E18 = 10**18
SPECS = {"spot": spot_spec, "perp": perp_spec, "prediction": pred_spec}


def registry_default_min_bonds() -> tuple[int, ...]:
    """``DEFAULT_MIN_BONDS`` of chain/deployment.py, read without importing web3 into the engine tests."""
    source = Path(__file__).resolve().parents[3] / "chain" / "deployment.py"
    for node in ast.parse(source.read_text()).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == ["DEFAULT_MIN_BONDS"]:
            value = eval(compile(ast.Expression(node.value), str(source), "eval"), {"__builtins__": {}})  # noqa: S307
            return tuple(value)
    raise AssertionError("DEFAULT_MIN_BONDS not found")


def launch(eng: Engine, spec: C.LaunchMarket) -> Any:
    before = eng.state_hash(include_seq=False)
    evs = eng.apply(spec)
    if isinstance(evs[0], E.Rejected):
        assert len(evs) == 1 and eng.state_hash(include_seq=False) == before
    return evs[0]


def test_defaults_are_the_registry_deployment_defaults() -> None:
    p = DEFAULT_PARAMS
    # MarketRegistry kinds: 0 spot, 1 perpetual, 2 prediction (chain/deployment.py)
    assert (p.min_bond_spot, p.min_bond_perp, p.min_bond_prediction) == registry_default_min_bonds()
    assert registry_default_min_bonds() == (100 * E18, 1_000 * E18, 500 * E18)


@pytest.mark.parametrize(("kind", "minimum"), [("spot", 100 * E18), ("perp", 1_000 * E18), ("prediction", 500 * E18)])
def test_each_kind_launches_at_its_minimum_and_not_one_unit_below(kind: str, minimum: int) -> None:
    eng = Engine()
    ev = launch(eng, SPECS[kind]("LOW", bond=minimum - 1))
    assert (ev.type, ev.reason) == ("rejected", RejectReason.BOND_TOO_LOW)
    assert str(minimum) in ev.detail
    assert "LOW" not in eng.markets
    ev = launch(eng, SPECS[kind]("OK", bond=minimum))
    assert ev.type == "market_launched"


def test_a_zero_minimum_still_needs_a_bond_as_on_chain() -> None:
    eng = Engine(ProtocolParams(min_bond_spot=0))
    assert launch(eng, spot_spec("ZERO", bond=0)).reason == RejectReason.BOND_TOO_LOW
    assert launch(eng, spot_spec("ONE", bond=1)).type == "market_launched"
