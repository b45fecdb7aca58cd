"""Issue 14, end to end: one deposit margins a perp and prediction shares; isolation caps a bad market's loss."""

from __future__ import annotations

from markets.engine import Engine, RejectReason
from markets.engine import commands as C

from .conftest import ok
from .perp_helpers import FAST, USD, perp_spec, perp_totals
from .pred_helpers import pred_spec


def test_spot_and_prediction_holdings_count_at_mid_times_weight() -> None:
    eng = Engine(FAST)
    ok(
        eng,
        C.LaunchMarket(
            1, "X-USD", "spot", "X", USD, 2, 10, 1, 0, 0, 0, "0xdep", collateral_weight_bps=5_000, bond=10**20
        ),
    )
    ok(eng, pred_spec("RAIN", collateral_weight_bps=9_000))
    ok(eng, C.DepositCredit(1, "d1", "a", "X", 105))
    ok(eng, C.DepositCredit(1, "d2", "a", USD, 10_000))
    ok(eng, C.DepositCredit(1, "d3", "mm", USD, 10_000))
    ok(eng, C.DepositCredit(1, "d4", "mm", "X", 1_000))
    acct = eng.accounts["a"]
    assert eng.perp.holdings_value(eng, acct, USD) == 0  # no two-sided books yet
    ok(eng, C.PlaceOrder(2, "mm", "X-USD", "buy", 99, 1))
    ok(eng, C.PlaceOrder(2, "mm", "X-USD", "sell", 102, 1))
    ok(eng, C.Split(2, "a", "RAIN", 3))  # 3 YES + 3 NO for 300
    ok(eng, C.PlaceOrder(2, "mm", "RAIN", "buy", 60, 1))
    ok(eng, C.PlaceOrder(2, "mm", "RAIN", "buy", 35, 1, outcome="no"))  # a YES ask at 65
    # X: 105 minor units = 10.5 lots at mid 100 ticks x 2 = floor(2,100) -> 1,050 at 50 %
    # RAIN: mid 62: 3 YES x 62 + 3 NO x 38 = 300 at 90 % = 270
    assert eng.perp.holdings_value(eng, acct, USD) == 1_050 + 270
    assert "weights" in eng.snapshot()["perp"]


def test_one_deposit_margins_perp_and_prediction_and_a_profit_frees_collateral() -> None:
    # given: a graduated perp and a prediction market whose shares count at 100 %
    eng = Engine(FAST)
    ok(eng, perp_spec())
    ok(eng, C.SetRiskClass(1, "BTC-PERP", "cross_eligible"))
    ok(eng, pred_spec("RAIN", collateral_weight_bps=10_000))
    ok(eng, C.DepositCredit(1, "d1", "alice", USD, 1_500))  # the one deposit
    ok(eng, C.DepositCredit(1, "d2", "mm", USD, 10**6))
    ok(eng, C.PlaceOrder(2, "mm", "RAIN", "buy", 50, 10, outcome="no"))
    ok(eng, C.PlaceOrder(2, "alice", "RAIN", "buy", 50, 10))  # minted: alice holds 10 YES, paid 500
    ok(eng, C.PlaceOrder(2, "mm", "RAIN", "buy", 40, 1))
    ok(eng, C.PlaceOrder(2, "mm", "RAIN", "buy", 40, 1, outcome="no"))  # YES mid 50: 10 x 50 = 500 of equity
    # the perp long: 10 lots at 1000 needs 1,000 initial; alice has 1,000 free + 500 in shares
    ok(eng, C.PlaceOrder(3, "mm", "BTC-PERP", "sell", 1000, 100))
    ok(eng, C.PlaceOrder(3, "alice", "BTC-PERP", "buy", 1000, 10, tif="ioc"))
    assert eng.perp.cross_margin(eng, "alice", USD, 3) == (1_500, 1_000, 500)
    # 6 more lots: 16 x 1000 needs 1,600 initial > 1,500 of equity
    [rej] = eng.apply(C.PlaceOrder(3, "alice", "BTC-PERP", "buy", 1000, 6, tif="ioc"))
    assert rej.reason == RejectReason.INSUFFICIENT_MARGIN
    # when: the prediction market moves up (YES mid 50 -> 70): +200 of equity
    ok(eng, C.CancelAll(4, "mm", "RAIN"))
    ok(eng, C.PlaceOrder(4, "mm", "RAIN", "buy", 60, 1))
    ok(eng, C.PlaceOrder(4, "mm", "RAIN", "buy", 20, 1, outcome="no"))
    # then: the profit in one market frees collateral for an order in the other
    ok(eng, C.PlaceOrder(4, "alice", "BTC-PERP", "buy", 1000, 6, tif="ioc"))
    pos = eng.perp.position("alice", "BTC-PERP")
    assert pos is not None and pos.size == 16
    assert perp_totals(eng)[USD] == 1_500 + 10**6
