"""docs/engine.md stays true: its example runs, and it names every command, event and reject reason."""

from __future__ import annotations

import re
from pathlib import Path

from markets.engine import RejectReason
from markets.engine import commands as C
from markets.engine import events as E

DOC = Path(__file__).resolve().parents[3] / "docs" / "engine.md"


def _example() -> str:
    text = DOC.read_text()
    section = text.split("## Example", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "no python block under ## Example"
    return match.group(1)


def test_example_runs() -> None:
    exec(compile(_example(), str(DOC), "exec"), {"__name__": "engine_doc_example"})  # noqa: S102


def test_every_command_event_and_reason_is_documented() -> None:
    text = DOC.read_text()
    for name in [*C.COMMAND_TYPES, *E.EVENT_TYPES, *(r.value for r in RejectReason)]:
        assert f"`{name}`" in text or f"(`{name}`)" in text, f"{name} is not documented"
