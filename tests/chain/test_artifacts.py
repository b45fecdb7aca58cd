"""The artifacts Django loads are there and complete."""

import hashlib

import pytest

from chain.artifacts import ARTIFACTS_DIR, CONTRACT_NAMES, load_artifact


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_load(name):
    artifact = load_artifact(name)
    assert artifact.bytecode.startswith("0x") and len(artifact.bytecode) > 1000
    assert artifact.compiler == "vyper-0.4.3"
    assert artifact.sha256 == hashlib.sha256((ARTIFACTS_DIR / f"{name}.json").read_bytes()).hexdigest()
    assert (
        artifact.source_sha256 == hashlib.sha256((ARTIFACTS_DIR.parent / "src" / f"{name}.vy").read_bytes()).hexdigest()
    ), "source changed since the artifact was built: run contracts/build.py"


def test_abis_have_the_entry_points_the_app_calls():
    names = {f["name"] for f in load_artifact("MarketRegistry").abi if f.get("type") == "function"}
    assert {"register_market", "propose_slash", "execute_slash", "cancel_slash", "halt_market", "slash_digest"} <= names
    names = {f["name"] for f in load_artifact("Vault").abi if f.get("type") == "function"}
    assert {"deposit", "withdraw", "withdraw_digest", "set_operator"} <= names


def test_unknown_name():
    with pytest.raises(KeyError):
        load_artifact("Nope")
