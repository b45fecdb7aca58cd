"""Every prediction reject: one Rejected event with that reason, and no state change but the sequence number."""

from __future__ import annotations

from typing import Any

import pytest

from markets.engine import Engine, RejectReason
from markets.engine import commands as C
from markets.engine import events as E

from .conftest import assert_rejected_cleanly
from .pred_helpers import HOUR2, USD, group_specs, pred_spec

T = 20  # ts of the cases (setup ends at 20)
LATE = 10 + HOUR2  # the dispute windows of the markets closed at 10 are over


def _setup() -> Engine:
    eng = Engine()
    cmds: list[Any] = [
        pred_spec("BIN"),
        *[pred_spec(mid, close_ts=10) for mid in ("PROP", "DISP", "DONE")],
        *group_specs("G3", ["a", "b", "c"])[:2],
        *group_specs("FULL", ["a", "b"]),
        C.DepositCredit(1, "d-alice", "alice", USD, 100_000),
        C.DepositCredit(1, "d-poor", "poor", USD, 150),
        C.Split(2, "alice", "BIN", 5),
        C.Split(2, "poor", "FULL-a", 1),
        C.ProposeResolution(10, "oracle", "PROP", "yes"),
        C.ProposeResolution(10, "oracle", "DISP", "yes"),
        C.ProposeResolution(10, "oracle", "DONE", "yes"),
        C.Dispute(11, "alice", "DISP"),
        C.Dispute(11, "alice", "DONE"),
        C.GovernanceDecision(12, "DONE", "no"),
    ]
    for cmd in cmds:
        cmd = cmd._replace(ts=max(cmd.ts, 1))
        evs = eng.apply(cmd)
        assert not any(isinstance(e, E.Rejected) for e in evs), (cmd, evs)
    eng.apply(C.DepositCredit(T, "d-tick", "alice", USD, 1))
    return eng


def po(**kw: Any) -> C.PlaceOrder:
    base: dict[str, Any] = dict(ts=T, account="alice", market_id="BIN", side="buy", price=50, size=1)
    base.update(kw)
    return C.PlaceOrder(**base)


R = RejectReason
CASES: list[tuple[str, Any, RejectReason]] = [
    ("trade after close", po(market_id="PROP"), R.MARKET_CLOSED),
    ("split after close", C.Split(T, "alice", "PROP", 1), R.MARKET_CLOSED),
    ("trade a resolved market", po(market_id="DONE"), R.MARKET_RESOLVED),
    ("merge a resolved market", C.Merge(T, "alice", "DONE", 1), R.MARKET_RESOLVED),
    ("price 0", po(price=0), R.INVALID_PRICE),
    ("price 1 unit", po(price=100), R.INVALID_PRICE),
    ("NO price 1 unit", po(price=100, outcome="no"), R.INVALID_PRICE),
    ("bad outcome", po(outcome="maybe"), R.INVALID_FIELD),
    ("reduce only", po(reduce_only=True), R.NOT_SUPPORTED),
    ("outcome of the wrong type", po(outcome=1), R.INVALID_COMMAND),
    ("buy beyond the balance", po(size=10_000), R.INSUFFICIENT_BALANCE),
    ("sell YES not held", po(side="sell", size=6), R.INSUFFICIENT_SHARES),
    ("sell NO not held", po(side="sell", outcome="no", size=6), R.INSUFFICIENT_SHARES),
    ("split beyond the balance", C.Split(T, "poor", "BIN", 2), R.INSUFFICIENT_BALANCE),
    ("split zero", C.Split(T, "alice", "BIN", 0), R.INVALID_AMOUNT),
    ("merge more than held", C.Merge(T, "alice", "BIN", 6), R.INSUFFICIENT_SHARES),
    ("split unknown market", C.Split(T, "alice", "NOPE", 1), R.UNKNOWN_MARKET),
    ("convert not held", C.ConvertNo(T, "alice", "FULL", "FULL-a", 1), R.INSUFFICIENT_SHARES),
    ("convert more than held", C.ConvertNo(T, "poor", "FULL", "FULL-a", 2), R.INSUFFICIENT_SHARES),
    ("convert unknown group", C.ConvertNo(T, "alice", "NOPE", "x", 1), R.UNKNOWN_GROUP),
    ("convert unformed group", C.ConvertNo(T, "alice", "G3", "G3-a", 1), R.GROUP_NOT_FORMED),
    ("convert a non-member", C.ConvertNo(T, "poor", "FULL", "BIN", 1), R.INVALID_FIELD),
    ("convert twice the same", C.ConvertNo(T, "poor", "FULL", "FULL-a,FULL-a", 1), R.INVALID_FIELD),
    ("launch into a formed group", group_specs("FULL", ["a", "b", "c"])[2]._replace(ts=T), R.GROUP_FORMED),
    ("add outcome: rule none", C.AddOutcome(T, "0xdeployer", "FULL", "FULL-c", "c"), R.OUTCOME_NOT_ALLOWED),
    ("add outcome: not the deployer", C.AddOutcome(T, "alice", "FULL", "FULL-c", "c"), R.NOT_DEPLOYER),
    ("resolve before close", C.ProposeResolution(T, "oracle", "BIN", "yes"), R.MARKET_NOT_CLOSED),
    ("resolve by someone else", C.ProposeResolution(T, "alice", "PROP", "yes"), R.NOT_RESOLVER),
    ("propose twice", C.ProposeResolution(T, "oracle", "PROP", "no"), R.ALREADY_PROPOSED),
    ("propose a member of a group", C.ProposeResolution(T, "oracle", "FULL-a", "yes"), R.INVALID_FIELD),
    ("propose a bad outcome", C.ProposeResolution(1_000, "oracle", "BIN", "maybe"), R.INVALID_FIELD),
    ("dispute without a proposal", C.Dispute(T, "alice", "BIN"), R.NOT_PROPOSED),
    ("dispute after the window", C.Dispute(LATE, "alice", "PROP"), R.DISPUTE_WINDOW_CLOSED),
    ("dispute without the bond", C.Dispute(T, "poor", "PROP"), R.INSUFFICIENT_BALANCE),
    ("dispute twice", C.Dispute(T, "alice", "DISP"), R.ALREADY_DISPUTED),
    ("dispute after the decision", C.Dispute(T, "alice", "DONE"), R.ALREADY_DECIDED),
    ("decide without a dispute", C.GovernanceDecision(T, "PROP", "no"), R.NOT_DISPUTED),
    ("decide twice", C.GovernanceDecision(T, "DONE", "yes"), R.ALREADY_DECIDED),
    ("finalize in the window", C.FinalizeResolution(T, "PROP"), R.DISPUTE_WINDOW_OPEN),
    ("finalize a disputed proposal", C.FinalizeResolution(LATE, "DISP"), R.RESOLUTION_DISPUTED),
    ("finalize without a proposal", C.FinalizeResolution(LATE, "BIN"), R.NOT_PROPOSED),
    ("finalize twice", C.FinalizeResolution(LATE, "DONE"), R.MARKET_RESOLVED),
    ("finalize unknown", C.FinalizeResolution(T, "NOPE"), R.UNKNOWN_MARKET),
    ("launch: base asset", pred_spec("P", ts=T, base_asset="X"), R.BAD_MARKET_SPEC),
    ("launch: unit not a tick multiple", pred_spec("P", ts=T, tick_size=3), R.BAD_MARKET_SPEC),
    ("launch: rebate", pred_spec("P", ts=T, maker_fee_bps=-1), R.BAD_MARKET_SPEC),
    ("launch: closes in the past", pred_spec("P", ts=T, close_ts=T), R.BAD_MARKET_SPEC),
    ("launch: no resolver", pred_spec("P", ts=T, resolver=""), R.BAD_MARKET_SPEC),
    ("launch: short window", pred_spec("P", ts=T, dispute_window_ms=HOUR2 - 1), R.BAD_MARKET_SPEC),
    ("launch: small bond", pred_spec("P", ts=T, dispute_bond=999), R.BAD_MARKET_SPEC),
    ("launch: invalid split", pred_spec("P", ts=T, invalid_split_bps=10_001), R.BAD_MARKET_SPEC),
    ("launch: group of one", pred_spec("P", ts=T, group_id="G9", group_size=1, outcome="a"), R.BAD_MARKET_SPEC),
    ("launch: group spec differs", group_specs("G3", list("abc"), close_ts=999)[2]._replace(ts=T), R.BAD_MARKET_SPEC),
    ("launch: market id is a group id", pred_spec("FULL", ts=T), R.DUPLICATE_MARKET_ID),
]  # fmt: skip

COVERED = {reason for _, _, reason in CASES}


@pytest.mark.parametrize(("name", "command", "reason"), CASES, ids=[c[0] for c in CASES])
def test_rejected_without_state_change(name: str, command: Any, reason: RejectReason) -> None:
    # given
    eng = _setup()
    # when, then
    assert_rejected_cleanly(eng, command, reason)


def test_every_prediction_reject_reason_is_covered() -> None:
    prediction_reasons = {r for r in RejectReason if r.name.startswith(("MARKET_", "NOT_", "ALREADY_", "DISPUTE_"))}
    prediction_reasons |= {R.RESOLUTION_DISPUTED, R.INSUFFICIENT_SHARES, R.UNKNOWN_GROUP, R.GROUP_NOT_FORMED}
    prediction_reasons |= {R.GROUP_FORMED, R.OUTCOME_NOT_ALLOWED}
    prediction_reasons -= {R.MARKET_HALTED, R.NOT_YOUR_ORDER, R.NOT_SUPPORTED}
    assert prediction_reasons <= COVERED
