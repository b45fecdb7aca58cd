"""Spot and prediction buys in a cross margin domain: accepted only if the worst case keeps the initial margin."""

from __future__ import annotations

from typing import Any

import pytest

import markets.engine
from markets.engine import Engine, RejectReason
from markets.engine import commands as C
from markets.engine import events as E
from markets.engine.perp import Perp

from .conftest import ok
from .perp_helpers import FAST, USD, perp_spec
from .pred_helpers import pred_spec

SRC = "push:0xoraclekey"


def rejected(eng: Engine, cmd: Any) -> Any:
    [rej] = eng.apply(cmd)
    assert isinstance(rej, E.Rejected)
    return rej


@pytest.fixture
def eng() -> Engine:
    """alice: 3,000 USD and a cross long of 20 BTC-PERP at 1,000 (initial 2,000, maintenance 1,000).

    X-USD spot (weight 50 %) quoted 99 / 101, mid 100; RAIN prediction (weight 50 %) YES quoted
    40 / 60, mid 50.
    """
    eng = Engine(FAST)
    ok(eng, perp_spec())
    ok(eng, C.SetRiskClass(1, "BTC-PERP", "cross_eligible"))
    ok(
        eng,
        C.LaunchMarket(
            1, "X-USD", "spot", "X", USD, 1, 1, 1, 0, 0, 0, "0xdep", collateral_weight_bps=5_000, bond=10**20
        ),
    )
    ok(eng, pred_spec("RAIN", collateral_weight_bps=5_000))
    for who, asset, amount in (("alice", USD, 3_000), ("bob", USD, 3_000), ("mm", USD, 10**7), ("mm", "X", 10**4)):
        ok(eng, C.DepositCredit(1, f"d-{who}-{asset}", who, asset, amount))
    ok(eng, C.OraclePrice(2, "BTC-PERP", 1_000, SRC))
    ok(eng, C.PlaceOrder(2, "mm", "BTC-PERP", "sell", 1_000, 100))
    ok(eng, C.PlaceOrder(2, "alice", "BTC-PERP", "buy", 1_000, 20, tif="ioc"))
    ok(eng, C.PlaceOrder(2, "mm", "X-USD", "buy", 99, 1_000))
    ok(eng, C.PlaceOrder(2, "mm", "X-USD", "sell", 101, 1_000))
    ok(eng, C.PlaceOrder(2, "mm", "RAIN", "buy", 40, 1_000))
    ok(eng, C.PlaceOrder(2, "mm", "RAIN", "buy", 40, 1_000, outcome="no"))  # a YES ask at 60
    assert eng.perp.cross_margin(eng, "alice", USD, 3, with_orders=True) == (3_000, 2_000, 1_000)
    return eng


def test_a_spot_buy_whose_worst_case_breaks_the_initial_margin_is_rejected(eng: Engine) -> None:
    # 25 X at 101 pays 2,525 (the balance has it) for 25 x 100 x 50 % = 1,250 of equity:
    # 3,000 - 2,525 + 1,250 = 1,725 < 2,000
    rej = rejected(eng, C.PlaceOrder(3, "alice", "X-USD", "buy", 101, 25))
    assert rej.reason == RejectReason.INSUFFICIENT_MARGIN
    assert rej.detail == "cross equity after this buy's worst case 1725 < initial requirement 2000"
    assert eng.balance("alice", USD) == (3_000, 0)


def test_a_spot_buy_within_the_margin_is_accepted_and_its_worst_case_is_the_equity_after(eng: Engine) -> None:
    # 10 X at 101: 3,000 - 1,010 + 10 x 100 x 50 % = 2,490 >= 2,000
    evs = ok(eng, C.PlaceOrder(3, "alice", "X-USD", "buy", 101, 10))
    assert [e.size for e in evs if isinstance(e, E.Trade)] == [10]
    assert eng.perp.cross_margin(eng, "alice", USD, 3, with_orders=True) == (2_490, 2_000, 1_000)


def test_resting_buys_count_in_the_worst_case(eng: Engine) -> None:
    # 8 X at 98 rest (reserve 784, worth 400 once held): 3,000 - 784 + 400 = 2,616
    ok(eng, C.PlaceOrder(3, "alice", "X-USD", "buy", 98, 8))
    # 7 more: 2,616 - 686 + 350 = 2,280
    ok(eng, C.PlaceOrder(3, "alice", "X-USD", "buy", 98, 7))
    # 6 more: 2,280 - 588 + 300 = 1,992 < 2,000, though each alone would fit
    rej = rejected(eng, C.PlaceOrder(3, "alice", "X-USD", "buy", 98, 6))
    assert rej.detail == "cross equity after this buy's worst case 1992 < initial requirement 2000"


def test_prediction_buys_are_checked_the_same_way(eng: Engine) -> None:
    # YES 10 at 60 fills: 3,000 - 600 + 10 x 50 x 50 % = 2,650
    evs = ok(eng, C.PlaceOrder(3, "alice", "RAIN", "buy", 60, 10))
    assert [e.size for e in evs if isinstance(e, E.PredictionTrade)] == [10]
    assert eng.perp.cross_margin(eng, "alice", USD, 3, with_orders=True) == (2_650, 2_000, 1_000)
    # YES 30 more: 2,650 - 1,800 + 750 = 1,600 < 2,000
    rej = rejected(eng, C.PlaceOrder(3, "alice", "RAIN", "buy", 60, 30))
    assert rej.detail == "cross equity after this buy's worst case 1600 < initial requirement 2000"
    # NO 20 at 55 (rests as a YES ask at 45): 2,650 - 1,100 + 20 x (100 - 50) x 50 % = 2,050
    ok(eng, C.PlaceOrder(3, "alice", "RAIN", "buy", 55, 20, outcome="no"))


@pytest.mark.skipif(
    markets.engine.NATIVE, reason="counts calls by patching a class; compiled methods call each other directly"
)
def test_accounts_without_cross_positions_are_not_checked(eng: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    check = Perp.check_collateral_buy

    def counted(self: Perp, e: Engine, acct: Any, *rest: Any) -> None:
        calls.append(acct.account_id)
        check(self, e, acct, *rest)

    monkeypatch.setattr(Perp, "check_collateral_buy", counted)
    # bob holds no perp record: his whole balance buys X, and the check is never reached
    evs = ok(eng, C.PlaceOrder(3, "bob", "X-USD", "buy", 101, 29))
    assert [e.size for e in evs if isinstance(e, E.Trade)] == [29]
    assert eng.balance("bob", USD) == (3_000 - 2_929, 0)
    assert calls == []
    # carol's only record is isolated: checked, but nothing shared is at stake
    ok(eng, C.DepositCredit(3, "d-carol", "carol", USD, 3_000))
    ok(eng, C.AdjustIsolatedMargin(3, "carol", "BTC-PERP", 1_000))
    ok(eng, C.PlaceOrder(3, "carol", "X-USD", "buy", 101, 19))
    assert calls == ["carol"]
