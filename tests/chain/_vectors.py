"""The fixed vectors shared with the contract tests (contracts/tests/vectors.py), loaded by path."""

import importlib.util
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "contracts" / "tests" / "vectors.py"
_spec = importlib.util.spec_from_file_location("contract_vectors", _PATH)
assert _spec and _spec.loader
vectors = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vectors)
