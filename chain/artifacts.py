"""Load compiled contract artifacts (ABI + bytecode) from contracts/artifacts/. No Django imports."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "contracts" / "artifacts"
CONTRACT_NAMES = ("CoreToken", "CollateralToken", "MarketRegistry", "Vault")


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str  # 0x-hex creation code
    compiler: str
    source_sha256: str
    sha256: str  # of the artifact file: what a deployment records


@cache
def load_artifact(name: str) -> Artifact:
    """The artifact for a contract name in CONTRACT_NAMES; raises KeyError for others."""
    if name not in CONTRACT_NAMES:
        raise KeyError(f"unknown contract {name!r}; known: {', '.join(CONTRACT_NAMES)}")
    raw = (ARTIFACTS_DIR / f"{name}.json").read_bytes()
    data = json.loads(raw)
    return Artifact(
        name=name,
        abi=data["abi"],
        bytecode=data["bytecode"],
        compiler=data["compiler"],
        source_sha256=data["sourceSha256"],
        sha256=hashlib.sha256(raw).hexdigest(),
    )
