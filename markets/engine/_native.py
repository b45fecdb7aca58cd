"""Pick the engine's build at import: the mypyc-compiled modules in build/native if they match this source."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import MutableSequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD = HERE.parent.parent / "build" / "native"
STAMP = BUILD / "markets" / "engine" / "SOURCE_DIGEST"
# "native": the compiled build or an ImportError; "interpreted": never the build; unset or
# "auto": the build when it is current. The modes run the same source, so results are the same
# bit for bit (tests/markets/engine/test_native.py); only the speed differs.
MODE_VAR = "EXCHANGE_OS_ENGINE"


def source_digest() -> str:
    """Digest of every engine source file and of the interpreter they were compiled for.

    All files count, not just the compiled ones: compiled code bakes in the shapes of the
    interpreted modules it uses (the commands' field order, the enums' values).
    """
    h = hashlib.sha256(sys.version.encode())
    for path in sorted(HERE.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def build_is_current() -> bool:
    """The build's stamp matches this source (scripts/build_engine.py checks it too)."""
    try:
        return STAMP.read_text().strip() == source_digest()
    except OSError:
        return False


def activate(package_path: MutableSequence[str]) -> bool:
    """Put the compiled build in front of this package's own modules when it may be used."""
    mode = os.environ.get(MODE_VAR, "auto")
    if mode not in ("auto", "native", "interpreted"):
        raise ImportError(f"{MODE_VAR}={mode!r}: expected 'auto', 'native' or 'interpreted'")
    if mode == "interpreted":
        return False
    if not build_is_current():
        if mode == "native":
            raise ImportError(
                f"{MODE_VAR}=native, but build/native is missing or older than the engine's source: run `make engine`"
            )
        return False
    # each compiled module is a small stub that loads the one shared library at the build's top
    if str(BUILD) not in sys.path:
        sys.path.append(str(BUILD))
    package_path.insert(0, str(STAMP.parent))
    return True


# chosen when the package imports this module (scripts/build_engine.py loads it by path, package-less)
_package = sys.modules.get(__package__ or "")
ACTIVE = activate(_package.__path__) if _package is not None else False
