"""Prediction commands and events through the codec; snapshot/restore and hash determinism."""

from __future__ import annotations

import json
from typing import Any

from markets.engine import Engine
from markets.engine import commands as C
from markets.engine import events as E

from .pred_helpers import HOUR2, USD, group_specs, pred_spec

PREDICTION_COMMANDS = {
    "Split",
    "Merge",
    "ConvertNo",
    "AddOutcome",
    "ProposeResolution",
    "Dispute",
    "GovernanceDecision",
    "FinalizeResolution",
}
PREDICTION_EVENTS = {
    "PredictionMarketLaunched",
    "PredictionOrderAccepted",
    "PredictionTrade",
    "SharesSplit",
    "SharesMerged",
    "NoConverted",
    "OutcomeAdded",
    "ResolutionProposed",
    "Disputed",
    "DisputeDecided",
    "Payout",
    "ResolutionFinal",
}


def sample_commands() -> list[Any]:
    return [
        pred_spec("BIN", maker_fee_bps=5, taker_fee_bps=20, deployer_fee_share_bps=3000),
        *group_specs("CUP", ["bra", "fra", "other"], rule="other", close_ts=2_000),
        C.DepositCredit(1, "d1", "alice", USD, 100_000),
        C.DepositCredit(1, "d2", "bob", USD, 100_000),
        C.AddOutcome(2, "0xdeployer", "CUP", "CUP-arg", "arg"),
        C.PlaceOrder(2, "alice", "BIN", "buy", 61, 10, client_id="a1"),
        C.PlaceOrder(2, "bob", "BIN", "buy", 45, 4, outcome="no"),
        C.Split(3, "bob", "BIN", 6),
        C.PlaceOrder(3, "bob", "BIN", "sell", 30, 2, outcome="no", tif="ioc"),
        C.Merge(3, "bob", "BIN", 1),
        C.Split(3, "alice", "CUP-bra", 5),
        C.ConvertNo(3, "alice", "CUP", "CUP-bra,CUP-fra", 0),  # rejected: amount
        C.Split(3, "alice", "CUP-fra", 5),
        C.ConvertNo(3, "alice", "CUP", "CUP-bra,CUP-fra", 3),
        C.PlaceOrder(4, "bob", "BIN", "buy", 20, 3, outcome="no"),
        C.ProposeResolution(1_000, "oracle", "BIN", "yes"),
        C.Dispute(1_001, "bob", "BIN"),
        C.GovernanceDecision(1_002, "BIN", "invalid", "case-1"),
        C.ProposeResolution(2_000, "oracle", "CUP", "CUP-arg"),
        C.FinalizeResolution(2_000 + HOUR2, "CUP"),
    ]


def test_prediction_codec_round_trip_covers_every_new_type() -> None:
    eng = Engine()
    seen: set[str] = set()
    for cmd in sample_commands():
        wire = json.loads(json.dumps(C.to_dict(cmd)))
        assert C.from_dict(wire) == cmd and type(C.from_dict(wire)) is type(cmd)
        for ev in eng.apply(cmd):
            seen.add(type(ev).__name__)
            wire = json.loads(json.dumps(E.to_dict(ev)))
            assert E.from_dict(wire) == ev and type(E.from_dict(wire)) is type(ev)
    used = {type(c).__name__ for c in sample_commands()}
    assert used >= PREDICTION_COMMANDS
    assert seen >= PREDICTION_EVENTS
    assert {n for n in (cls.__name__ for cls in C.COMMAND_TYPES.values())} >= PREDICTION_COMMANDS


def test_prediction_replay_and_restore_give_the_same_hash() -> None:
    cmds = sample_commands()
    a, b = Engine(), Engine()
    for cmd in cmds:
        assert a.apply(cmd) == b.apply(cmd)
    assert a.state_hash() == b.state_hash()
    for cut in range(len(cmds)):
        c = Engine()
        for cmd in cmds[:cut]:
            c.apply(cmd)
        d = Engine.restore(json.loads(json.dumps(c.snapshot())))
        assert d.state_hash() == c.state_hash()
        for cmd in cmds[cut:]:
            assert d.apply(cmd) == c.apply(cmd)
        assert d.state_hash() == a.state_hash()


def test_prediction_golden_hash() -> None:
    # Pinned: a change means the prediction state serialisation (or behaviour) changed.
    eng = Engine()
    for cmd in sample_commands():
        eng.apply(cmd)
    assert eng.state_hash() == "600dc1f58606e3d15a836dcb22e1b4d2687ef7a2ad6c27a93d73b4741d6e2b7e"
