"""The compiled build (build/native) and the source make the same events and state; the build is chosen safely."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import markets.engine
from markets.engine import _native

from .native_flow import digest

ROOT = Path(__file__).resolve().parents[3]


def test_the_other_build_makes_the_same_events_and_state_bit_for_bit() -> None:
    # given: this process's build, and the other one in a fresh process
    if not _native.build_is_current():
        pytest.skip("no current compiled build to compare with: `make engine`")
    other = "interpreted" if markets.engine.NATIVE else "native"
    env = dict(os.environ, **{_native.MODE_VAR: other})
    # when: both apply the same mixed flow (spot, binary, perp; fills, expiries, self-trades, cancels)
    proc = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tests.markets.engine.native_flow"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    theirs = json.loads(proc.stdout)
    ours = digest()
    # then: the two builds differ, and what they make does not
    assert theirs["native"] is not ours["native"]
    assert theirs["events"] == ours["events"]
    assert theirs["state_hashes"] == ours["state_hashes"]


@pytest.fixture
def stale_stamp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    stamp = tmp_path / "SOURCE_DIGEST"
    stamp.write_text("0" * 64 + "\n")  # a build of some other source
    monkeypatch.setattr(_native, "STAMP", stamp)
    return stamp


def test_a_stale_build_is_not_used_by_default(stale_stamp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(_native.MODE_VAR, raising=False)
    path: list[str] = ["src"]
    assert _native.activate(path) is False
    assert path == ["src"]


def test_a_stale_build_refuses_to_load_when_the_build_is_required(
    stale_stamp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(_native.MODE_VAR, "native")
    with pytest.raises(ImportError, match="older than the engine's source: run `make engine`"):
        _native.activate(["src"])


def test_a_current_build_goes_ahead_of_the_source(stale_stamp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale_stamp.write_text(_native.source_digest() + "\n")
    monkeypatch.setenv(_native.MODE_VAR, "auto")
    monkeypatch.setattr(sys, "path", list(sys.path))
    path: list[str] = ["src"]
    assert _native.activate(path) is True
    assert path == [str(stale_stamp.parent), "src"]


def test_the_interpreted_source_can_be_forced_and_a_bad_mode_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_native.MODE_VAR, "interpreted")
    assert _native.activate(["src"]) is False
    monkeypatch.setenv(_native.MODE_VAR, "fast")
    with pytest.raises(ImportError, match="EXCHANGE_OS_ENGINE='fast': expected 'auto', 'native' or 'interpreted'"):
        _native.activate(["src"])
