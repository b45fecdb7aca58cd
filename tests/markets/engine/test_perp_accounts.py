"""Stage A of issue 14: sub-accounts, protocol parameters, perp specs, risk classes, margin tiers."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, fields, replace

import pytest

from markets.engine import Engine, RejectReason
from markets.engine import commands as C
from markets.engine import events as E
from markets.engine.margin import account_owner, parse_account, parse_tiers, requirement, weighted_pnl
from markets.engine.params import DEFAULT_PARAMS, ProtocolParams

from .perp_helpers import FAST, TIERS, USD, perp_spec


def _ok(eng: Engine, cmd: C.Command) -> list[E.Event]:
    evs = eng.apply(cmd)
    assert not any(isinstance(e, E.Rejected) for e in evs), evs
    return evs


# -- accounts ------------------------------------------------------------------------------


def test_account_ids() -> None:
    assert parse_account("0xabc", 255) == ("0xabc", 0)
    assert parse_account("0xabc:1", 255) == ("0xabc", 1)
    assert parse_account("0xabc:255", 255) == ("0xabc", 255)
    for bad in ("", "sys:protocol", ":1", "0xabc:0", "0xabc:01", "0xabc:256", "0xabc:-1", "0xabc:x", "0xabc:1:2"):
        assert parse_account(bad, 255) is None, bad
    assert account_owner("0xabc:7") == "0xabc"


def test_subaccount_transfer_moves_free_collateral_only() -> None:
    # given
    eng = Engine()
    _ok(eng, C.DepositCredit(1, "d", "0xa", USD, 1_000))
    # when
    [ev] = _ok(eng, C.SubaccountTransfer(2, "0xa", "0xa:1", USD, 400))
    # then: a new domain exists with 400, the main keeps 600
    assert ev == E.SubaccountTransferred(2, "0xa", "0xa:1", USD, 400)
    assert eng.balance("0xa", USD) == (600, 0) and eng.balance("0xa:1", USD) == (400, 0)
    _ok(eng, C.SubaccountTransfer(3, "0xa:1", "0xa:2", USD, 400))
    assert eng.balance("0xa:1", USD) == (0, 0) and eng.balance("0xa:2", USD) == (400, 0)
    # more than the free balance is refused
    [rej] = eng.apply(C.SubaccountTransfer(4, "0xa", "0xa:2", USD, 601))
    assert rej.reason == RejectReason.INSUFFICIENT_BALANCE


def test_transfer_cannot_touch_reserved_funds() -> None:
    eng = Engine()
    _ok(eng, C.LaunchMarket(1, "X-USD", "spot", "X", USD, 1, 1, 1, 0, 0, 0, "0xdep", bond=10**20))
    _ok(eng, C.DepositCredit(1, "d", "0xa", USD, 1_000))
    _ok(eng, C.PlaceOrder(2, "0xa", "X-USD", "buy", 10, 90))  # reserves 900
    [rej] = eng.apply(C.SubaccountTransfer(3, "0xa", "0xa:1", USD, 101))
    assert rej.reason == RejectReason.INSUFFICIENT_BALANCE
    _ok(eng, C.SubaccountTransfer(3, "0xa", "0xa:1", USD, 100))


# -- protocol parameters -------------------------------------------------------------------


def test_protocol_parameter_defaults() -> None:
    p = DEFAULT_PARAMS
    assert (p.oracle_min_interval_ms, p.oracle_max_move_bps, p.oracle_stale_ms) == (2_500, 100, 10_000)
    assert p.graduation_min_age_ms == 604_800_000
    assert all(isinstance(getattr(p, f.name), int) for f in fields(p) if f.name != "treasury_account")
    assert p.treasury_account == ""
    with pytest.raises(FrozenInstanceError):
        p.oracle_stale_ms = 1  # type: ignore[misc]


# -- margin tiers ----------------------------------------------------------------------------


def test_margin_tiers_and_requirements_round_up() -> None:
    tiers = parse_tiers(TIERS, 8)
    assert tiers == [(1_000_000, 1_000, 500), (0, 2_000, 1_000)]
    assert requirement(tiers, 0) == (0, 0)
    assert requirement(tiers, 1) == (1, 1)  # ceil(0.1), ceil(0.05)
    assert requirement(tiers, 1_000_000) == (100_000, 50_000)
    assert requirement(tiers, 1_000_001) == (200_001, 100_001)  # 200,000.2 and 100,000.1 round up
    assert weighted_pnl(1_001, 8_000) == 800  # 800.8 rounds down
    assert weighted_pnl(-1_001, 8_000) == -1_001  # losses in full


@pytest.mark.parametrize(
    "bad",
    ["", "0:1000", "0:500:1000", "100:1000:500", "100:1000:500,50:1000:500,0:2000:1000", "0:10001:500",
     "100:2000:1000,0:1000:500", "1:2:1,2:2:1,3:2:1,4:2:1,5:2:1,6:2:1,7:2:1,8:2:1,0:2:1", "0:1000:0", "a:1:1"],
)  # fmt: skip
def test_bad_margin_tiers(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_tiers(bad, 8)


# -- perp launch and risk classes ------------------------------------------------------------


def test_perp_launch_starts_isolated_only() -> None:
    eng = Engine()
    evs = _ok(eng, perp_spec())
    assert [e.type for e in evs] == ["market_launched", "perp_market_launched"]
    assert evs[1].risk_class == "isolated_only" and evs[1].margin_tiers == TIERS
    assert eng.perp.markets["BTC-PERP"].risk_class == "isolated_only"


def test_graduation_tick_applies_the_rule() -> None:
    eng = Engine(replace(FAST, graduation_min_bond=5_000 * 10**18))
    _ok(eng, perp_spec("A-PERP"))
    _ok(eng, perp_spec("B-PERP", bond=4_999 * 10**18))  # bond enough to launch, below the rule
    _ok(eng, perp_spec("C-PERP"))
    _ok(eng, C.GovernanceCase(2, "C-PERP", "case-1", "open"))
    assert _ok(eng, C.GraduationTick(1_000)) == []  # too young: 999 ms
    evs = _ok(eng, C.GraduationTick(1_001))
    assert [(e.market_id, e.risk_class, e.by) for e in evs] == [("A-PERP", "cross_eligible", "graduation")]
    assert eng.perp.graduation_blockers(eng.perp.markets["B-PERP"], 1_001) == ["bond"]
    assert eng.perp.graduation_blockers(eng.perp.markets["C-PERP"], 1_001) == ["open_case"]
    # closing the case lets C graduate on the next tick; A is not announced twice
    _ok(eng, C.GovernanceCase(1_002, "C-PERP", "case-1", "closed"))
    evs = _ok(eng, C.GraduationTick(1_003))
    assert [e.market_id for e in evs] == ["C-PERP"]


def test_open_interest_rule() -> None:
    eng = Engine(ProtocolParams(graduation_min_age_ms=0, graduation_min_bond=0, graduation_min_oi_lots=5))
    _ok(eng, perp_spec())
    assert _ok(eng, C.GraduationTick(2)) == []
    assert eng.perp.graduation_blockers(eng.perp.markets["BTC-PERP"], 2) == ["open_interest"]


def test_governance_promotes_and_demotes_and_pins() -> None:
    eng = Engine(FAST)
    _ok(eng, perp_spec())
    [ev] = _ok(eng, C.SetRiskClass(2, "BTC-PERP", "cross_eligible", "case-7"))
    assert (ev.risk_class, ev.previous, ev.by, ev.case_id) == (
        "cross_eligible",
        "isolated_only",
        "governance",
        "case-7",
    )
    [ev] = _ok(eng, C.SetRiskClass(3, "BTC-PERP", "isolated_only", "case-8"))
    assert ev.previous == "cross_eligible"
    # pinned by governance: the tick no longer promotes it
    assert _ok(eng, C.GraduationTick(10_000)) == []
    assert eng.perp.markets["BTC-PERP"].risk_class == "isolated_only"


def test_perp_state_in_snapshot_only_once_it_exists_and_restores() -> None:
    eng = Engine(FAST)
    _ok(eng, C.DepositCredit(1, "d", "0xa", USD, 1_000))
    assert "perp" not in eng.snapshot()
    _ok(eng, perp_spec())
    _ok(eng, C.GovernanceCase(2, "BTC-PERP", "c1", "open"))
    snap = eng.snapshot()
    assert snap["perp"]["params"]["graduation_min_age_ms"] == 1_000
    copy = Engine.restore(json.loads(json.dumps(snap)))
    assert copy.state_hash() == eng.state_hash()
    assert copy.perp.params == FAST
    for e in (eng, copy):
        _ok(e, C.GovernanceCase(3, "BTC-PERP", "c1", "closed"))
        _ok(e, C.GraduationTick(5_000))
    assert copy.state_hash() == eng.state_hash()
    assert copy.perp.markets["BTC-PERP"].risk_class == "cross_eligible"
