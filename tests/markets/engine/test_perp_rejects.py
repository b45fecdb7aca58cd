"""Every issue-14 reject: one Rejected event with that reason, and no state change but the sequence number."""

from __future__ import annotations

from typing import Any

import pytest

from markets.engine import Engine, RejectReason
from markets.engine import commands as C
from markets.engine import events as E

from .conftest import assert_rejected_cleanly
from .perp_helpers import USD, perp_spec

T = 5


def _setup() -> Engine:
    eng = Engine()
    cmds: list[Any] = [
        perp_spec(),
        C.LaunchMarket(1, "X-USD", "spot", "X", USD, 1, 1, 1, 0, 0, 0, "0xdep", bond=10**20),
        C.DepositCredit(1, "d-a", "0xa", USD, 1_000),
        C.GovernanceCase(2, "BTC-PERP", "open-case", "open"),
        perp_spec("G-PERP", ts=2),
        C.SetRiskClass(2, "G-PERP", "cross_eligible"),
        C.PlaceOrder(2, "0xa", "G-PERP", "buy", 10, 1),
        C.OraclePrice(2, "G-PERP", 10, "push:0xoraclekey"),
        perp_spec("A-PERP", ts=2, access="allowlist"),
        C.SetRiskClass(2, "A-PERP", "cross_eligible"),
        # 0xl: a long that the later trade at 5 puts below maintenance (checked once the oracle is stale)
        C.DepositCredit(2, "d-l", "0xl", USD, 15),
        C.DepositCredit(2, "d-s", "0xs", USD, 10_000),
        C.PlaceOrder(2, "0xs", "G-PERP", "sell", 10, 10),
        C.PlaceOrder(2, "0xl", "G-PERP", "buy", 10, 10, tif="ioc"),
        C.PlaceOrder(2, "0xs", "G-PERP", "sell", 5, 1),
        C.PlaceOrder(2, "0xa", "G-PERP", "buy", 5, 1, tif="ioc"),
        C.PlaceOrder(2, "0xs", "G-PERP", "sell", 20, 1),  # the book's only ask
    ]
    for cmd in cmds:
        evs = eng.apply(cmd)
        assert not any(isinstance(e, E.Rejected) for e in evs), (cmd, evs)
    return eng


def tr(**kw: Any) -> C.SubaccountTransfer:
    base: dict[str, Any] = dict(ts=T, account="0xa", to_account="0xa:1", asset=USD, amount=10)
    base.update(kw)
    return C.SubaccountTransfer(**base)


R = RejectReason
CASES: list[tuple[str, Any, RejectReason]] = [
    ("transfer: malformed sub-account", tr(to_account="0xa:0"), R.INVALID_ACCOUNT),
    ("transfer: sub-account out of range", tr(to_account="0xa:256"), R.INVALID_ACCOUNT),
    ("transfer: from a system account", tr(account="sys:protocol"), R.INVALID_ACCOUNT),
    ("transfer: another wallet", tr(to_account="0xb:1"), R.OWNER_MISMATCH),
    ("transfer: to itself", tr(to_account="0xa"), R.OWNER_MISMATCH),
    ("transfer: unknown source", tr(account="0xz", to_account="0xz:1"), R.UNKNOWN_ACCOUNT),
    ("transfer: zero", tr(amount=0), R.INVALID_AMOUNT),
    ("transfer: no asset", tr(asset=""), R.INVALID_FIELD),
    ("transfer: more than free", tr(amount=1_001), R.INSUFFICIENT_BALANCE),
    ("risk class of a spot market", C.SetRiskClass(T, "X-USD", "cross_eligible"), R.PERP_ONLY),
    ("risk class of no market", C.SetRiskClass(T, "NOPE", "cross_eligible"), R.UNKNOWN_MARKET),
    ("bad risk class", C.SetRiskClass(T, "BTC-PERP", "cross"), R.INVALID_FIELD),
    ("case twice", C.GovernanceCase(T, "BTC-PERP", "open-case", "open"), R.INVALID_FIELD),
    ("close unknown case", C.GovernanceCase(T, "BTC-PERP", "nope", "closed"), R.INVALID_FIELD),
    ("bad case status", C.GovernanceCase(T, "BTC-PERP", "c", "pending"), R.INVALID_FIELD),
    ("case on a spot market", C.GovernanceCase(T, "X-USD", "c", "open"), R.PERP_ONLY),
    ("perp: bad tiers", perp_spec("P", ts=T, margin_tiers="0:500:1000"), R.BAD_MARKET_SPEC),
    ("perp: weight above 100 %", perp_spec("P", ts=T, collateral_weight_bps=10_001), R.BAD_MARKET_SPEC),
    ("perp: no oracle", perp_spec("P", ts=T, oracle_source=""), R.BAD_MARKET_SPEC),
    ("perp: oracle kind", perp_spec("P", ts=T, oracle_source="vibes:1"), R.BAD_MARKET_SPEC),
    ("perp: index of nothing", perp_spec("P", ts=T, oracle_source="index:NOPE"), R.BAD_MARKET_SPEC),
    ("perp: no oi cap", perp_spec("P", ts=T, oi_cap=0), R.BAD_MARKET_SPEC),
    ("perp: account cap above market cap", perp_spec("P", ts=T, account_oi_cap=10_001), R.BAD_MARKET_SPEC),
    ("perp: access", perp_spec("P", ts=T, access="kyc"), R.BAD_MARKET_SPEC),
    ("perp: negative bond", perp_spec("P", ts=T, bond=-1), R.BAD_MARKET_SPEC),
    ("isolated order without margin", C.PlaceOrder(T, "0xa", "BTC-PERP", "buy", 100, 1), R.INSUFFICIENT_MARGIN),
    ("cross order above equity", C.PlaceOrder(T, "0xa", "G-PERP", "buy", 100, 100), R.INSUFFICIENT_MARGIN),
    ("account open-interest cap", C.PlaceOrder(T, "0xa", "G-PERP", "buy", 1, 1_001), R.OI_CAP_EXCEEDED),
    ("reduce-only that adds to a long",
     C.PlaceOrder(T, "0xa", "G-PERP", "buy", 10, 1, tif="ioc", reduce_only=True), R.REDUCE_ONLY_WOULD_INCREASE),
    ("reduce-only resting", C.PlaceOrder(T, "0xa", "G-PERP", "sell", 10, 1, reduce_only=True), R.INVALID_FIELD),
    ("post-only buy at the best ask",
     C.PlaceOrder(T, "0xa", "G-PERP", "buy", 20, 1, tif="post_only"), R.POST_ONLY_WOULD_CROSS),
    ("perp outcome", C.PlaceOrder(T, "0xa", "G-PERP", "sell", 10, 1, outcome="no"), R.INVALID_FIELD),
    ("cross in an isolated-only market", C.SetMarginMode(T, "0xa", "BTC-PERP", "cross"), R.ISOLATED_ONLY),
    ("mode change with an order", C.SetMarginMode(T, "0xa", "G-PERP", "isolated"), R.POSITION_OPEN),
    ("isolated margin for cross", C.AdjustIsolatedMargin(T, "0xa", "G-PERP", 10), R.MARGIN_MODE_MISMATCH),
    ("remove margin never added", C.AdjustIsolatedMargin(T, "0xa", "BTC-PERP", -1), R.INSUFFICIENT_MARGIN),
    ("oracle too soon", C.OraclePrice(T, "G-PERP", 10, "push:0xoraclekey"), R.ORACLE_TOO_SOON),
    ("oracle from the wrong key", C.OraclePrice(T, "BTC-PERP", 10, "push:0xother"), R.ORACLE_SOURCE_MISMATCH),
    ("oracle on a spot market", C.OraclePrice(T, "X-USD", 10, "push:0xoraclekey"), R.PERP_ONLY),
    ("negative oracle", C.OraclePrice(T, "BTC-PERP", -1, "push:0xoraclekey"), R.INVALID_PRICE),
    ("funding early", C.FundingTick(T, "G-PERP"), R.FUNDING_NOT_DUE),
    ("resume an active market", C.ResumeMarket(T, "G-PERP"), R.HALT_REQUIRED),
    ("allowlist: not listed", C.PlaceOrder(T, "0xa", "A-PERP", "buy", 10, 1), R.ACCESS_DENIED),
    ("allowlist by another", C.SetAllowlist(T, "A-PERP", "0xother", "0xa", True), R.NOT_DEPLOYER),
    ("liquidate a healthy domain", C.Liquidate(T, "0xa"), R.ABOVE_MAINTENANCE),
    ("liquidate a cross record as isolated", C.Liquidate(T, "0xa", "G-PERP"), R.MARGIN_MODE_MISMATCH),
    ("liquidate while the oracle is stale", C.Liquidate(30_000, "0xl"), R.LIQUIDATION_PAUSED),
]  # fmt: skip

COVERED = {reason for _, _, reason in CASES}


@pytest.mark.parametrize(("name", "command", "reason"), CASES, ids=[c[0] for c in CASES])
def test_rejected_without_state_change(name: str, command: Any, reason: RejectReason) -> None:
    # given
    eng = _setup()
    # when, then
    assert_rejected_cleanly(eng, command, reason)


def test_every_issue_14_reason_is_covered() -> None:
    issue_14 = {r for r in R if list(R).index(r) >= list(R).index(R.INVALID_ACCOUNT)}
    assert issue_14 <= COVERED
