"""Every reject reason: one Rejected event with that reason, and no state change but the sequence number."""

from __future__ import annotations

from typing import Any

import pytest

from markets.engine import Engine, RejectReason
from markets.engine import commands as C
from markets.engine import events as E

from .conftest import BASE, MARKET, QUOTE, assert_rejected_cleanly, spot_spec
from .test_claim_fees import COVERED as CLAIM_CASES_COVERED
from .test_perp_rejects import COVERED as PERP_CASES_COVERED
from .test_prediction_rejects import COVERED as PREDICTION_CASES_COVERED


def po(**kw: Any) -> C.PlaceOrder:
    base: dict[str, Any] = dict(ts=5, account="alice", market_id=MARKET, side="buy", price=100, size=1)
    base.update(kw)
    return C.PlaceOrder(**base)


def _setup(eng: Engine) -> None:
    cmds: list[Any] = []
    cmds.append(spot_spec("HALTED-USDC", base_asset="HLT"))
    cmds.append(C.HaltMarket(2, "HALTED-USDC"))
    cmds.append(spot_spec("MIN-USDC", ts=2, base_asset="MIN", min_size=10))
    cmds.append(C.PlaceOrder(3, "bob", MARKET, "sell", 110, 2))  # best ask 110, order id known by client id below
    cmds.append(C.PlaceOrder(3, "bob", MARKET, "buy", 90, 2, client_id="bob-1"))
    cmds.append(C.PlaceOrder(3, "alice", MARKET, "buy", 80, 1, client_id="used"))
    cmds.append(C.WithdrawRequest(3, "w-pending", "alice", QUOTE, 10, expiry_ts=1_000))
    cmds.append(C.WithdrawRequest(3, "w-done", "alice", QUOTE, 10, expiry_ts=1_000))
    cmds.append(C.WithdrawExecuted(3, "w-done"))
    for cmd in cmds:
        evs = eng.apply(cmd)
        assert not any(isinstance(e, E.Rejected) for e in evs), evs


CASES: list[tuple[str, Any, RejectReason]] = [
    ("not a command", ("nope",), RejectReason.INVALID_COMMAND),
    ("wrong field type", po(price="100"), RejectReason.INVALID_COMMAND),
    ("bool for int", po(size=True), RejectReason.INVALID_COMMAND),
    ("time goes backwards", po(ts=1), RejectReason.TIMESTAMP_REGRESSION),
    ("unknown market", po(market_id="NOPE"), RejectReason.UNKNOWN_MARKET),
    ("halted market", po(market_id="HALTED-USDC"), RejectReason.MARKET_HALTED),
    ("halt twice", C.HaltMarket(5, "HALTED-USDC"), RejectReason.MARKET_HALTED),
    ("bond below the minimum", spot_spec("LOW-USDC", ts=5, bond=100 * 10**18 - 1), RejectReason.BOND_TOO_LOW),
    ("no bond", spot_spec("LOW-USDC", ts=5, bond=0), RejectReason.BOND_TOO_LOW),
    ("negative bond", spot_spec("LOW-USDC", ts=5, bond=-1), RejectReason.BAD_MARKET_SPEC),
    ("unknown account", po(account="mallory"), RejectReason.UNKNOWN_ACCOUNT),
    ("system account trades", po(account="sys:protocol"), RejectReason.SYSTEM_ACCOUNT),
    ("bad side", po(side="hold"), RejectReason.INVALID_FIELD),
    ("bad tif", po(tif="day"), RejectReason.INVALID_FIELD),
    ("market gtc", po(order_type="market", tif="gtc"), RejectReason.INVALID_FIELD),
    ("bad order type", po(order_type="stop"), RejectReason.INVALID_FIELD),
    ("bad stp", po(stp="allow"), RejectReason.INVALID_FIELD),
    ("reduce only on spot", po(reduce_only=True), RejectReason.NOT_SUPPORTED),
    ("zero price", po(price=0), RejectReason.INVALID_PRICE),
    ("negative price", po(price=-5), RejectReason.INVALID_PRICE),
    ("market order without protection", po(order_type="market", tif="ioc", price=0), RejectReason.INVALID_PRICE),
    ("zero size", po(size=0), RejectReason.INVALID_SIZE),
    ("below minimum", po(market_id="MIN-USDC", size=9), RejectReason.SIZE_BELOW_MINIMUM),
    ("already expired", po(expiry_ts=5), RejectReason.EXPIRED),
    ("negative expiry", po(expiry_ts=-1), RejectReason.INVALID_FIELD),
    ("duplicate client id (live)", po(client_id="used"), RejectReason.DUPLICATE_CLIENT_ID),
    ("post-only crosses", po(price=110, tif="post_only"), RejectReason.POST_ONLY_WOULD_CROSS),
    ("post-only sell crosses", po(side="sell", price=90, tif="post_only"), RejectReason.POST_ONLY_WOULD_CROSS),
    ("insufficient quote", po(size=100_000), RejectReason.INSUFFICIENT_BALANCE),
    ("insufficient base", po(side="sell", price=200, size=100_000), RejectReason.INSUFFICIENT_BALANCE),
    ("fok short", po(price=110, size=3, tif="fok"), RejectReason.FOK_CANNOT_FILL),
    ("cancel unknown order", C.CancelOrder(5, "alice", order_id=999), RejectReason.UNKNOWN_ORDER),
    ("cancel unknown client id", C.CancelOrder(5, "alice", client_id="nope"), RejectReason.UNKNOWN_ORDER),
    ("cancel someone else's", C.CancelOrder(5, "alice", order_id=1), RejectReason.NOT_YOUR_ORDER),
    ("cancel without id", C.CancelOrder(5, "alice"), RejectReason.INVALID_FIELD),
    ("cancel all unknown market", C.CancelAll(5, "alice", "NOPE"), RejectReason.UNKNOWN_MARKET),
    ("cancel all unknown account", C.CancelAll(5, "mallory"), RejectReason.UNKNOWN_ACCOUNT),
    ("duplicate deposit", C.DepositCredit(5, "dep-alice-q", "alice", QUOTE, 1), RejectReason.DUPLICATE_DEPOSIT_ID),
    ("zero deposit", C.DepositCredit(5, "new", "alice", QUOTE, 0), RejectReason.INVALID_AMOUNT),
    ("empty deposit id", C.DepositCredit(5, "", "alice", QUOTE, 1), RejectReason.INVALID_FIELD),
    ("deposit to system", C.DepositCredit(5, "x", "sys:protocol", QUOTE, 1), RejectReason.SYSTEM_ACCOUNT),
    ("deposit of a share", C.DepositCredit(5, "x", "alice", "BIN:YES", 1), RejectReason.INVALID_FIELD),
    ("withdraw too much", C.WithdrawRequest(5, "w", "alice", QUOTE, 10**12, 100), RejectReason.INSUFFICIENT_BALANCE),
    (
        "withdraw reserved funds",
        C.WithdrawRequest(5, "w", "bob", BASE, 1_000_000, 100),
        RejectReason.INSUFFICIENT_BALANCE,
    ),
    ("withdraw zero", C.WithdrawRequest(5, "w", "alice", QUOTE, 0, 100), RejectReason.INVALID_AMOUNT),
    ("withdraw already expired", C.WithdrawRequest(5, "w", "alice", QUOTE, 1, 5), RejectReason.EXPIRED),
    (
        "duplicate withdrawal",
        C.WithdrawRequest(5, "w-pending", "alice", QUOTE, 1, 100),
        RejectReason.DUPLICATE_WITHDRAWAL_ID,
    ),
    ("withdraw unknown account", C.WithdrawRequest(5, "w", "mallory", QUOTE, 1, 100), RejectReason.UNKNOWN_ACCOUNT),
    ("expire unknown", C.WithdrawExpire(5, "nope"), RejectReason.UNKNOWN_WITHDRAWAL),
    ("expire too early", C.WithdrawExpire(5, "w-pending"), RejectReason.WITHDRAWAL_NOT_EXPIRED),
    ("expire executed", C.WithdrawExpire(2_000, "w-done"), RejectReason.WITHDRAWAL_NOT_PENDING),
    ("execute twice", C.WithdrawExecuted(5, "w-done"), RejectReason.WITHDRAWAL_NOT_PENDING),
    ("duplicate market", spot_spec(ts=5), RejectReason.DUPLICATE_MARKET_ID),
    ("perp without margin tiers", spot_spec("P", ts=5, kind="perp", bond=10**21), RejectReason.BAD_MARKET_SPEC),
    ("unknown kind", spot_spec("P", ts=5, kind="option"), RejectReason.BAD_MARKET_SPEC),
    ("same assets", spot_spec("P", ts=5, base_asset=QUOTE), RejectReason.BAD_MARKET_SPEC),
    ("zero tick", spot_spec("P", ts=5, tick_size=0), RejectReason.BAD_MARKET_SPEC),
    ("zero lot", spot_spec("P", ts=5, lot_size=0), RejectReason.BAD_MARKET_SPEC),
    ("zero min size", spot_spec("P", ts=5, min_size=0), RejectReason.BAD_MARKET_SPEC),
    ("taker fee too high", spot_spec("P", ts=5, taker_fee_bps=1_001), RejectReason.BAD_MARKET_SPEC),
    ("rebate above taker fee", spot_spec("P", ts=5, taker_fee_bps=2, maker_fee_bps=-3), RejectReason.BAD_MARKET_SPEC),
    ("share above 100 %", spot_spec("P", ts=5, deployer_fee_share_bps=10_001), RejectReason.BAD_MARKET_SPEC),
    ("no deployer", spot_spec("P", ts=5, deployer=""), RejectReason.BAD_MARKET_SPEC),
    ("empty market id", spot_spec("", ts=5), RejectReason.BAD_MARKET_SPEC),
]


@pytest.mark.parametrize(("name", "command", "reason"), CASES, ids=[c[0] for c in CASES])
def test_rejected_without_state_change(eng: Engine, name: str, command: Any, reason: RejectReason) -> None:
    # given
    _setup(eng)
    # when, then
    assert_rejected_cleanly(eng, command, reason)


def test_every_reject_reason_is_covered() -> None:
    # prediction-market reasons have their own table (test_prediction_rejects.py)
    covered = {reason for _, _, reason in CASES} | PREDICTION_CASES_COVERED | PERP_CASES_COVERED
    covered |= CLAIM_CASES_COVERED
    assert covered == set(RejectReason)


def test_client_id_stays_used_after_the_order_is_gone(eng: Engine) -> None:
    eng.apply(po(client_id="once"))
    eng.apply(C.CancelOrder(6, "alice", client_id="once"))
    evs = eng.apply(po(ts=7, client_id="once"))
    assert evs[0].reason == RejectReason.DUPLICATE_CLIENT_ID


# a value of the wrong exact type for each field type of PlaceOrder
_WRONG = {int: True, str: 7, bool: 0}


@pytest.mark.parametrize("field", C.PlaceOrder._fields)
def test_a_place_order_field_of_the_wrong_type_is_rejected_by_name(eng: Engine, field: str) -> None:
    # given: a valid order, one field of which gets a value of another type (a bool for an int)
    _setup(eng)
    want = C.FIELD_TYPES[C.PlaceOrder][C.PlaceOrder._fields.index(field)]
    command = po()._replace(**{field: _WRONG[want]})
    # when, then: rejected, naming the field, and nothing changes
    assert_rejected_cleanly(eng, command, RejectReason.INVALID_COMMAND)
    (event,) = eng.apply(command)
    assert isinstance(event, E.Rejected)
    assert event.detail == f"place_order.{field} must be {want.__name__}, got {type(_WRONG[want]).__name__}"
