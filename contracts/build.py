"""Compile contracts/src/*.vy into contracts/artifacts/<Name>.json (ABI, bytecode, compiler, source sha256).

Usage: python contracts/build.py [--check]
--check exits 1 if any artifact differs from what the sources compile to.
Runs in the contracts venv (vyper + snekmate installed there).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import vyper
from vyper.cli.vyper_compile import compile_files

CONTRACTS_DIR = Path(__file__).resolve().parent
SRC_DIR = CONTRACTS_DIR / "src"
ARTIFACTS_DIR = CONTRACTS_DIR / "artifacts"
# The deployable contracts; anything else in src/ would be a module.
CONTRACT_NAMES = ("CoreToken", "CollateralToken", "MarketRegistry", "Vault")


def source_sha256(name: str) -> str:
    return hashlib.sha256((SRC_DIR / f"{name}.vy").read_bytes()).hexdigest()


def compile_artifact(name: str) -> dict:
    """Compile one contract; the result is deterministic for a given source and compiler."""
    path = SRC_DIR / f"{name}.vy"
    out = compile_files([str(path)], ["abi", "bytecode", "bytecode_runtime"], paths=[str(SRC_DIR)])
    (result,) = out.values()
    return {
        "contractName": name,
        "compiler": f"vyper-{vyper.__version__}",
        "source": f"contracts/src/{name}.vy",
        "sourceSha256": source_sha256(name),
        "abi": result["abi"],
        "bytecode": result["bytecode"],
        "deployedBytecode": result["bytecode_runtime"],
    }


def render(artifact: dict) -> str:
    return json.dumps(artifact, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if artifacts are stale instead of writing them")
    args = parser.parse_args(argv)
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    stale = []
    for name in CONTRACT_NAMES:
        text = render(compile_artifact(name))
        target = ARTIFACTS_DIR / f"{name}.json"
        if args.check:
            if not target.exists() or target.read_text() != text:
                stale.append(name)
        else:
            target.write_text(text)
            print(f"wrote {target.relative_to(CONTRACTS_DIR.parent)}")
    if stale:
        print("stale artifacts (run python contracts/build.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
