"""The core stays pure: no Django, no binary floating point, no clock, no randomness."""

from __future__ import annotations

import ast
from pathlib import Path

import markets.engine

ENGINE_DIR = Path(markets.engine.__file__).resolve().parent
# _native.py picks the build at import (it reads the environment and the build's stamp); it
# holds no trading state, and tests/markets/engine/test_native.py covers it
FILES = sorted(p for p in ENGINE_DIR.rglob("*.py") if p.name != "_native.py")
FORBIDDEN_MODULES = {"django", "random", "time", "datetime", "secrets", "uuid", "os", "threading", "asyncio"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
            found.add("__import__")
    return found


def test_engine_files_found() -> None:
    assert {p.name for p in FILES} >= {"__init__.py", "engine.py", "book.py", "units.py"}


def test_no_django_clock_or_randomness_imports() -> None:
    for path in FILES:
        bad = _imports(path) & (FORBIDDEN_MODULES | {"__import__"})
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_no_float_anywhere() -> None:
    word = "fl" + "oat"
    for path in FILES:
        assert word not in path.read_text().lower(), f"{path.name} mentions {word}"


def test_decimal_only_in_units() -> None:
    for path in FILES:
        if path.name != "units.py":
            assert "decimal" not in _imports(path), f"{path.name} imports decimal"
