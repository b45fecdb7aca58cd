"""Compile the engine's hot modules with mypyc into build/native; markets/engine/_native.py loads them when current."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys

from mypyc.build import mypycify
from setuptools import setup

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the modules with the hot loops; commands, events, codec and enums stay interpreted (data
# definitions, and NamedTuples with properties, which mypyc does not compile)
MODULES = ["book", "ledger", "engine", "prediction", "perp", "margin", "sweep"]


def _native_module():  # type: ignore[no-untyped-def]
    # by path, not `import markets.engine`: the package would try to load the build being made
    spec = importlib.util.spec_from_file_location("_engine_native", os.path.join(ROOT, "markets/engine/_native.py"))
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    os.chdir(ROOT)
    native = _native_module()
    if native.build_is_current():
        print("build/native is current")
        return
    # the digest of the source as it is compiled: one edited meanwhile leaves the build stale
    digest = native.source_digest()
    shutil.rmtree("build/native", ignore_errors=True)  # no stamp until the new build is whole
    setup(
        name="exchange-os-engine-native",
        packages=[],
        py_modules=[],
        ext_modules=mypycify(
            ["--config-file", os.path.join(ROOT, "scripts/mypyc.ini"), *(f"markets/engine/{m}.py" for m in MODULES)],
            opt_level="3",
        ),
        script_args=["-q", "build_ext", "--build-lib", "build/native", "--build-temp", "build/native-tmp"],
    )
    native.STAMP.write_text(digest + "\n")
    print(f"build/native: compiled {', '.join(MODULES)}")


if __name__ == "__main__":
    sys.exit(main())
