"""The committed artifacts are exactly what the sources compile to."""

from __future__ import annotations

import json
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "contracts"))
import build  # noqa: E402


def test_artifacts_match_sources():
    for name in build.CONTRACT_NAMES:
        path = build.ARTIFACTS_DIR / f"{name}.json"
        assert path.exists(), f"missing {path}; run python contracts/build.py"
        committed = json.loads(path.read_text())
        assert committed["sourceSha256"] == build.source_sha256(name), f"{name}: source changed, rebuild artifacts"
        fresh = build.compile_artifact(name)
        assert committed == fresh, f"{name}: artifact differs from a fresh compile; run python contracts/build.py"


def test_artifacts_have_abi_bytecode_and_compiler():
    for name in build.CONTRACT_NAMES:
        data = json.loads((build.ARTIFACTS_DIR / f"{name}.json").read_text())
        assert data["bytecode"].startswith("0x") and len(data["bytecode"]) > 2
        assert data["compiler"] == "vyper-0.4.3"
        assert any(item.get("type") == "function" for item in data["abi"])
