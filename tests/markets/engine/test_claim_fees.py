"""ClaimFees: deployers and governance move accrued fees out of the system fee accounts."""

from __future__ import annotations

import json

import pytest

from markets.engine import PROTOCOL_FEE_ACCOUNT, Engine, RejectReason, deployer_fee_account, insurance_account
from markets.engine import commands as C
from markets.engine import events as E
from markets.engine.params import DEFAULT_PARAMS, ProtocolParams

from .conftest import MARKET, QUOTE, check_invariants, ok, rej, spot_spec

OPS_CLAIM_COMMANDS = {"ClaimFees"}
OPS_CLAIM_EVENTS = {"FeesClaimed"}
DEP = deployer_fee_account("0xdeployer")
TREASURY = "0xtreasury"
TOTALS = {QUOTE: 1_000_000, "ETH": 100_000}


@pytest.fixture
def eng() -> Engine:
    """One trade of 10 lots at 1,000 ticks (notional 100,000 USDC): taker fee 10 bps = 100,
    of which the deployer's 20 % = 20 and the protocol's 80."""
    eng = Engine(ProtocolParams(treasury_account=TREASURY))
    ok(eng, spot_spec(taker_fee_bps=10, deployer_fee_share_bps=2_000))
    ok(eng, C.DepositCredit(1, "d1", "alice", QUOTE, 1_000_000))
    ok(eng, C.DepositCredit(1, "d2", "bob", "ETH", 100_000))
    ok(eng, C.PlaceOrder(2, "bob", MARKET, "sell", 1_000, 10))
    ok(eng, C.PlaceOrder(3, "alice", MARKET, "buy", 1_000, 10, tif="ioc"))
    assert eng.balance(DEP, QUOTE) == (20, 0)
    assert eng.balance(PROTOCOL_FEE_ACCOUNT, QUOTE) == (80, 0)
    return eng


def test_deployer_claims_into_its_own_account_and_can_then_withdraw(eng: Engine) -> None:
    [ev] = ok(eng, C.ClaimFees(4, DEP, QUOTE, 15, "0xdeployer"))
    assert ev == E.FeesClaimed(ev.seq, DEP, "0xdeployer", QUOTE, 15, "0xdeployer")
    assert eng.balance(DEP, QUOTE) == (5, 0)
    assert eng.balance("0xdeployer", QUOTE) == (15, 0)
    check_invariants(eng, TOTALS)  # a transfer: conservation holds without a deposit
    [w] = ok(eng, C.WithdrawRequest(5, "w1", "0xdeployer", QUOTE, 15, 100))
    assert (w.account, w.amount, w.nonce) == ("0xdeployer", 15, 1)
    assert eng.balance("0xdeployer", QUOTE) == (0, 0)


def test_governance_claims_the_protocol_fees_to_the_treasury(eng: Engine) -> None:
    [ev] = ok(eng, C.ClaimFees(4, PROTOCOL_FEE_ACCOUNT, QUOTE, 80, C.GOVERNANCE))
    assert (ev.to_account, ev.amount, ev.claimant) == (TREASURY, 80, "governance")
    assert eng.balance(PROTOCOL_FEE_ACCOUNT, QUOTE) == (0, 0)
    assert eng.balance(TREASURY, QUOTE) == (80, 0)
    check_invariants(eng, TOTALS)
    ok(eng, C.WithdrawRequest(5, "w1", TREASURY, QUOTE, 80, 100))


CASES = [
    (C.ClaimFees(4, DEP, QUOTE, 10, "0xmallory"), RejectReason.FEE_OWNER_MISMATCH),  # another's fee account
    (C.ClaimFees(4, DEP, QUOTE, 10, C.GOVERNANCE), RejectReason.FEE_OWNER_MISMATCH),
    (C.ClaimFees(4, PROTOCOL_FEE_ACCOUNT, QUOTE, 10, "0xdeployer"), RejectReason.FEE_OWNER_MISMATCH),
    (C.ClaimFees(4, deployer_fee_account("0xnobody"), QUOTE, 1, "0xnobody"), RejectReason.UNKNOWN_ACCOUNT),
    (C.ClaimFees(4, insurance_account(MARKET), QUOTE, 1, C.GOVERNANCE), RejectReason.INVALID_ACCOUNT),
    (C.ClaimFees(4, "alice", QUOTE, 1, "alice"), RejectReason.INVALID_ACCOUNT),
    (C.ClaimFees(4, DEP, QUOTE, 0, "0xdeployer"), RejectReason.INVALID_AMOUNT),
    (C.ClaimFees(4, DEP, QUOTE, -5, "0xdeployer"), RejectReason.INVALID_AMOUNT),
    (C.ClaimFees(4, DEP, QUOTE, 21, "0xdeployer"), RejectReason.INSUFFICIENT_BALANCE),  # above the balance
    (C.ClaimFees(4, DEP, "ETH", 1, "0xdeployer"), RejectReason.INSUFFICIENT_BALANCE),
]
COVERED = {reason for _, reason in CASES} | {RejectReason.NOT_SUPPORTED}


@pytest.mark.parametrize(("cmd", "reason"), CASES)
def test_rejects_leave_the_state_unchanged(eng: Engine, cmd: C.ClaimFees, reason: str) -> None:
    assert rej(eng, cmd) == reason


def test_protocol_claims_wait_for_a_treasury_in_the_parameters() -> None:
    assert DEFAULT_PARAMS.treasury_account == ""
    eng = Engine()
    ok(eng, spot_spec())
    assert rej(eng, C.ClaimFees(2, PROTOCOL_FEE_ACCOUNT, QUOTE, 1, C.GOVERNANCE)) == RejectReason.NOT_SUPPORTED


def test_codec_round_trip(eng: Engine) -> None:
    cmd = C.ClaimFees(4, DEP, QUOTE, 20, "0xdeployer")
    assert C.from_dict(json.loads(json.dumps(C.to_dict(cmd)))) == cmd
    for ev in eng.apply(cmd):
        assert E.from_dict(json.loads(json.dumps(E.to_dict(ev)))) == ev
