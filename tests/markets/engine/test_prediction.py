"""Prediction markets with fixed expected results: trades (transfer, mint, burn), fees, split,
merge, conversions, resolution, disputes and payouts."""

from __future__ import annotations

from typing import Any

import pytest

from markets.engine import PROTOCOL_FEE_ACCOUNT, Engine, deployer_fee_account, insurance_account
from markets.engine import commands as C
from markets.engine import events as E
from markets.engine.prediction import collateral_account

from .pred_helpers import CLOSE, HOUR2, USD, check_prediction_invariants, group_specs, pred_spec

FUNDS = 100_000
TRADERS = ("alice", "bob", "carol")


def _engine(*specs: C.LaunchMarket) -> Engine:
    eng = Engine()
    for spec in specs:
        evs = eng.apply(spec)
        assert not any(isinstance(e, E.Rejected) for e in evs), evs
    for who in TRADERS:
        eng.apply(C.DepositCredit(1, f"dep-{who}", who, USD, FUNDS))
    return eng


TOTALS = {USD: len(TRADERS) * FUNDS}


@pytest.fixture
def eng() -> Engine:
    return _engine(pred_spec())


def po(account: str, side: str, price: int, size: int, outcome: str = "yes", **kw: Any) -> C.PlaceOrder:
    kw.setdefault("ts", 2)
    kw.setdefault("market_id", "BIN")
    return C.PlaceOrder(account=account, side=side, price=price, size=size, outcome=outcome, **kw)


def ok(eng: Engine, cmd: Any) -> list[Any]:
    evs = eng.apply(cmd)
    assert not any(isinstance(e, E.Rejected) for e in evs), evs
    check_prediction_invariants(eng, TOTALS)
    return evs


def fills(evs: list[Any]) -> list[tuple[Any, ...]]:
    return [
        (e.settlement, e.book_price, e.size, e.taker_account, e.taker_price, e.maker_account, e.maker_price)
        for e in evs
        if isinstance(e, E.PredictionTrade)
    ]


def bal(eng: Engine, who: str, asset: str = USD) -> tuple[int, int]:
    return eng.balance(who, asset)


# -- trading ----------------------------------------------------------------------------------


def test_yes_buy_against_no_buy_mints_a_set(eng: Engine) -> None:
    # given alice bids 60 for 10 YES
    ok(eng, po("alice", "buy", 60, 10))
    assert bal(eng, "alice") == (FUNDS - 600, 600)
    # when bob buys 4 NO at up to 45 (a YES ask at 55 in the book)
    evs = ok(eng, po("bob", "buy", 45, 4, "no"))
    # then a set is minted at alice's 60: bob pays 40 per NO (price improvement), alice 60 per YES
    assert fills(evs) == [("mint", 60, 4, "bob", 40, "alice", 60)]
    assert bal(eng, "bob") == (FUNDS - 160, 0)
    assert bal(eng, "bob", "BIN:NO") == (4, 0)
    assert bal(eng, "alice") == (FUNDS - 600, 360)
    assert bal(eng, "alice", "BIN:YES") == (4, 0)
    assert bal(eng, collateral_account("BIN")) == (400, 0)
    pm = eng.pred.markets["BIN"]
    assert (pm.yes_supply, pm.no_supply) == (4, 4)
    assert eng.depth("BIN") == {"bids": [(60, 6)], "asks": []}


def test_no_buy_rests_as_yes_ask_and_mints_against_later_yes_buy(eng: Engine) -> None:
    evs = ok(eng, po("bob", "buy", 30, 5, "no"))
    acc = evs[0]
    assert isinstance(acc, E.PredictionOrderAccepted)
    assert (acc.outcome, acc.side, acc.price, acc.book_side, acc.book_price) == ("no", "buy", 30, "sell", 70)
    assert eng.depth("BIN") == {"bids": [], "asks": [(70, 5)]}
    evs = ok(eng, po("alice", "buy", 80, 5))
    # alice (taker) pays the maker's book price 70; bob pays exactly his 30
    assert fills(evs) == [("mint", 70, 5, "alice", 70, "bob", 30)]
    assert bal(eng, "alice") == (FUNDS - 350, 0)
    assert bal(eng, "bob") == (FUNDS - 150, 0)


def test_yes_transfer_and_no_transfer(eng: Engine) -> None:
    ok(eng, C.Split(2, "alice", "BIN", 10))  # alice: 10 YES + 10 NO for 1000
    # YES: alice sells 6 at 55, carol buys 4 at 60 -> 4 YES move at 55
    ok(eng, po("alice", "sell", 55, 6))
    evs = ok(eng, po("carol", "buy", 60, 4))
    assert fills(evs) == [("transfer", 55, 4, "carol", 55, "alice", 55)]
    assert bal(eng, "carol", "BIN:YES") == (4, 0)
    assert bal(eng, "alice", "BIN:YES") == (4, 2)
    # NO: alice sells 3 NO at 46 (a YES bid at 54); bob buys 3 NO at up to 47 (a YES ask at 53)
    ok(eng, po("alice", "sell", 46, 3, "no"))
    evs = ok(eng, po("bob", "buy", 47, 3, "no"))
    assert fills(evs) == [("transfer", 54, 3, "bob", 46, "alice", 46)]
    assert bal(eng, "bob", "BIN:NO") == (3, 0)
    assert bal(eng, "alice", "BIN:NO") == (7, 0)
    assert bal(eng, "alice") == (FUNDS - 1000 + 4 * 55 + 3 * 46, 0)


def test_yes_sell_against_no_sell_burns_a_set(eng: Engine) -> None:
    ok(eng, C.Split(2, "alice", "BIN", 5))
    ok(eng, C.Split(2, "bob", "BIN", 5))
    # alice offers 5 YES at 62; bob sells 5 NO at 30 or better (a YES bid at 70)
    ok(eng, po("alice", "sell", 62, 5))
    evs = ok(eng, po("bob", "sell", 30, 5, "no"))
    # burned at alice's 62: alice gets 62, bob gets 38 per set, from the collateral pool
    assert fills(evs) == [("burn", 62, 5, "bob", 38, "alice", 62)]
    assert bal(eng, "alice") == (FUNDS - 500 + 310, 0)
    assert bal(eng, "bob") == (FUNDS - 500 + 190, 0)
    assert bal(eng, collateral_account("BIN")) == (500, 0)
    assert eng.pred.markets["BIN"].yes_supply == 5


def test_shares_neither_come_in_by_deposit_nor_leave_by_withdrawal(eng: Engine) -> None:
    ok(eng, C.Split(2, "alice", "BIN", 10))
    before = eng.state_hash(include_seq=False)
    (out,) = eng.apply(C.WithdrawRequest(3, "w-yes", "alice", "BIN:YES", 4, 100))
    assert isinstance(out, E.Rejected) and out.reason == "invalid_field" and "merge it" in out.detail
    (inn,) = eng.apply(C.DepositCredit(3, "d-no", "bob", "BIN:NO", 7))
    assert isinstance(inn, E.Rejected) and inn.reason == "invalid_field"
    assert eng.state_hash(include_seq=False) == before
    assert bal(eng, "alice", "BIN:YES") == (10, 0) and bal(eng, "bob", "BIN:NO") == (0, 0)
    check_prediction_invariants(eng, TOTALS)


def test_fees_on_a_mint_are_exact_and_split() -> None:
    eng = _engine(
        pred_spec(
            tick_size=10,
            lot_size=1_000,
            maker_fee_bps=7,
            taker_fee_bps=30,
            deployer_fee_share_bps=2500,
            dispute_bond=10_000,
        )
    )
    ok(eng, po("alice", "buy", 37, 9))  # YES bid 37 ticks = 370 per share
    evs = ok(eng, po("bob", "buy", 70, 9, "no"))  # NO at 63 after improvement: 630 per share
    [t] = [e for e in evs if isinstance(e, E.PredictionTrade)]
    # taker fee: ceil(630*9*30/10^4) = ceil(17.01) = 18; maker fee: ceil(370*9*7/10^4) = ceil(2.331) = 3
    assert (t.settlement, t.taker_price, t.maker_price, t.taker_fee, t.maker_fee) == ("mint", 63, 37, 18, 3)
    assert bal(eng, "bob") == (FUNDS - 5670 - 18, 0)
    assert bal(eng, "alice") == (FUNDS - 3330 - 3, 0)
    assert bal(eng, deployer_fee_account("0xdeployer")) == (5, 0)  # floor(21 * 2500 / 10^4)
    assert bal(eng, PROTOCOL_FEE_ACCOUNT) == (16, 0)
    assert bal(eng, collateral_account("BIN")) == (9_000, 0)


def test_share_sells_need_shares_and_a_no_sell_is_not_a_naked_short(eng: Engine) -> None:
    [rej] = eng.apply(po("alice", "sell", 50, 1, "no"))
    assert isinstance(rej, E.Rejected) and rej.reason == "insufficient_shares"


def test_trading_stops_at_close_and_the_proposal_clears_the_book(eng: Engine) -> None:
    ok(eng, po("alice", "buy", 40, 2))
    ok(eng, po("bob", "buy", 30, 3, "no"))
    [rej] = eng.apply(po("carol", "buy", 50, 1, ts=CLOSE))
    assert rej.reason == "market_closed"
    evs = ok(eng, C.ProposeResolution(CLOSE, "oracle", "BIN", "yes"))
    assert [(e.order_id, e.reason) for e in evs if isinstance(e, E.OrderCancelled)] == [
        (1, "market_closed"),
        (2, "market_closed"),
    ]
    assert bal(eng, "alice") == (FUNDS, 0) and bal(eng, "bob") == (FUNDS, 0)
    assert isinstance(evs[-1], E.ResolutionProposed) and evs[-1].dispute_deadline == CLOSE + HOUR2


def test_spot_refuses_no_orders() -> None:
    from .conftest import spot_spec

    eng = Engine()
    eng.apply(spot_spec())
    eng.apply(C.DepositCredit(1, "d", "alice", "USDC", 10_000))
    [rej] = eng.apply(C.PlaceOrder(2, "alice", "ETH-USDC", "buy", 100, 1, outcome="no"))
    assert rej.reason == "invalid_field"


# -- split / merge / convert ----------------------------------------------------------------


def test_split_and_merge(eng: Engine) -> None:
    evs = ok(eng, C.Split(2, "alice", "BIN", 7))
    assert evs == [E.SharesSplit(evs[0].seq, "BIN", "alice", 7, 700)]
    assert bal(eng, "alice") == (FUNDS - 700, 0)
    assert bal(eng, "alice", "BIN:YES") == bal(eng, "alice", "BIN:NO") == (7, 0)
    evs = ok(eng, C.Merge(3, "alice", "BIN", 4))
    assert evs == [E.SharesMerged(evs[0].seq, "BIN", "alice", 4, 400)]
    assert bal(eng, "alice") == (FUNDS - 300, 0)
    assert bal(eng, collateral_account("BIN")) == (300, 0)
    [rej] = eng.apply(C.Merge(3, "alice", "BIN", 4))
    assert rej.reason == "insufficient_shares"


GROUP = group_specs("ELECTION", ["ann", "ben", "cat"])
ANN, BEN, CAT = (s.market_id for s in GROUP)


@pytest.fixture
def geng() -> Engine:
    eng = _engine(*GROUP)
    for mid in (ANN, BEN, CAT):
        ok(eng, C.Split(2, "alice", mid, 10))
    return eng


@pytest.mark.parametrize(
    ("picked", "collateral_back", "yes_of"),
    [
        ([ANN], 0, [BEN, CAT]),
        ([ANN, BEN], 500, [CAT]),
        ([CAT, ANN, BEN], 1_000, []),
    ],
    ids=["k=1", "k=2", "k=N"],
)
def test_convert_no(geng: Engine, picked: list[str], collateral_back: int, yes_of: list[str]) -> None:
    before = bal(geng, "alice")[0]
    evs = ok(geng, C.ConvertNo(3, "alice", "ELECTION", ",".join(picked), 5))
    [ev] = evs
    assert isinstance(ev, E.NoConverted) and ev.collateral == collateral_back and ev.yes_markets == ",".join(yes_of)
    assert bal(geng, "alice")[0] == before + collateral_back
    for mid in (ANN, BEN, CAT):
        assert bal(geng, "alice", f"{mid}:NO")[0] == (5 if mid in picked else 10)
        assert bal(geng, "alice", f"{mid}:YES")[0] == (15 if mid in yes_of else 10)
    assert bal(geng, collateral_account("ELECTION")) == (3_000 - collateral_back, 0)


def test_convert_needs_a_formed_group_and_held_shares() -> None:
    eng = _engine(*GROUP[:2])
    ok(eng, C.Split(2, "alice", ANN, 1))
    [rej] = eng.apply(C.ConvertNo(3, "alice", "ELECTION", ANN, 1))
    assert rej.reason == "group_not_formed"
    ok(eng, GROUP[2]._replace(ts=3))
    [rej] = eng.apply(C.ConvertNo(3, "alice", "ELECTION", f"{ANN},{BEN}", 1))
    assert rej.reason == "insufficient_shares"
    [rej] = eng.apply(C.ConvertNo(3, "alice", "NOPE", ANN, 1))
    assert rej.reason == "unknown_group"


def test_add_outcome_carves_the_other_outcome() -> None:
    specs = group_specs("CUP", ["bra", "fra", "other"], rule="other")
    eng = _engine(*specs)
    ok(eng, C.Split(2, "alice", "CUP-bra", 3))
    [rej] = eng.apply(C.AddOutcome(3, "alice", "CUP", "CUP-arg", "arg"))
    assert rej.reason == "not_deployer"
    evs = ok(eng, C.AddOutcome(3, "0xdeployer", "CUP", "CUP-arg", "arg"))
    assert [type(e) for e in evs] == [E.MarketLaunched, E.PredictionMarketLaunched, E.OutcomeAdded]
    assert evs[-1].group_size == 4 and evs[-1].carved_from == "CUP-other"
    ok(eng, C.Split(4, "bob", "CUP-other", 1))
    [rej] = eng.apply(C.AddOutcome(5, "0xdeployer", "CUP", "CUP-ger", "ger"))
    assert rej.reason == "outcome_not_allowed"
    closed = _engine(*group_specs("G2", ["a", "b"]))
    [rej] = closed.apply(C.AddOutcome(3, "0xdeployer", "G2", "G2-c", "c"))
    assert rej.reason == "outcome_not_allowed"


# -- resolution -------------------------------------------------------------------------------


def _positions(eng: Engine) -> None:
    ok(eng, po("alice", "buy", 60, 10))
    ok(eng, po("bob", "buy", 40, 10, "no"))  # mint 10 sets: alice 10 YES, bob 10 NO
    ok(eng, C.Split(2, "carol", "BIN", 3))  # carol 3 YES + 3 NO


def test_undisputed_proposal_finalises_after_the_window(eng: Engine) -> None:
    _positions(eng)
    ok(eng, C.ProposeResolution(CLOSE, "oracle", "BIN", "yes"))
    [rej] = eng.apply(C.FinalizeResolution(CLOSE + HOUR2 - 1, "BIN"))
    assert rej.reason == "dispute_window_open"
    evs = ok(eng, C.FinalizeResolution(CLOSE + HOUR2, "BIN"))
    assert [(e.account, e.amount) for e in evs if isinstance(e, E.Payout)] == [("alice", 1_000), ("carol", 300)]
    final = evs[-1]
    assert isinstance(final, E.ResolutionFinal)
    assert (final.outcome, final.collateral, final.paid, final.dust) == ("yes", 1_300, 1_300, 0)
    assert bal(eng, "alice") == (FUNDS - 600 + 1_000, 0)
    assert bal(eng, "bob") == (FUNDS - 400, 0)
    assert bal(eng, "alice", "BIN:YES") == (0, 0)
    [rej] = eng.apply(C.Merge(CLOSE + HOUR2, "carol", "BIN", 1))
    assert rej.reason == "market_resolved"


def test_invalid_split_rounds_down_per_holder_and_dust_goes_to_insurance() -> None:
    eng = _engine(pred_spec(invalid_split_bps=3_333))
    _positions(eng)
    ok(eng, C.ProposeResolution(CLOSE, "oracle", "BIN", "invalid"))
    evs = ok(eng, C.FinalizeResolution(CLOSE + HOUR2, "BIN"))
    # YES pays 33.33, NO 66.67 per share (unit 100)
    # alice 10 YES: 333.3 -> 333; bob 10 NO: 666.7 -> 666; carol 3 YES + 3 NO: 300 -> 300
    assert [(e.account, e.amount) for e in evs if isinstance(e, E.Payout)] == [
        ("alice", 333),
        ("bob", 666),
        ("carol", 300),
    ]
    final = evs[-1]
    assert (final.collateral, final.paid, final.dust) == (1_300, 1_299, 1)
    assert bal(eng, insurance_account("BIN")) == (1, 0)


def test_dispute_upheld_returns_the_bond_and_replaces_the_outcome(eng: Engine) -> None:
    _positions(eng)
    ok(eng, C.ProposeResolution(CLOSE, "oracle", "BIN", "yes"))
    evs = ok(eng, C.Dispute(CLOSE + 5, "bob", "BIN"))
    assert evs == [E.Disputed(evs[0].seq, "BIN", "yes", "oracle", "bob", 1_000, USD, CLOSE)]
    assert bal(eng, "bob") == (FUNDS - 400 - 1_000, 0)
    [rej] = eng.apply(C.FinalizeResolution(CLOSE + HOUR2, "BIN"))
    assert rej.reason == "resolution_disputed"
    evs = ok(eng, C.GovernanceDecision(CLOSE + HOUR2, "BIN", "no", "case-7"))
    decided = evs[0]
    assert isinstance(decided, E.DisputeDecided)
    assert (decided.upheld, decided.outcome, decided.bond_to) == (True, "no", "bob")
    assert [(e.account, e.amount) for e in evs if isinstance(e, E.Payout)] == [("bob", 1_000), ("carol", 300)]
    assert bal(eng, "bob") == (FUNDS - 400 + 1_000, 0)
    [rej] = eng.apply(C.Dispute(CLOSE + HOUR2, "alice", "BIN"))
    assert rej.reason == "already_decided"


def test_dispute_rejected_sends_the_bond_to_insurance(eng: Engine) -> None:
    _positions(eng)
    ok(eng, C.ProposeResolution(CLOSE, "oracle", "BIN", "yes"))
    ok(eng, C.Dispute(CLOSE + 5, "bob", "BIN"))
    evs = ok(eng, C.GovernanceDecision(CLOSE + 6, "BIN", "yes"))
    assert evs[0].upheld is False and evs[0].bond_to == insurance_account("BIN")
    assert bal(eng, insurance_account("BIN")) == (1_000, 0)
    assert bal(eng, "bob") == (FUNDS - 400 - 1_000, 0)


def test_group_resolution_and_invalid_pays_one_nth() -> None:
    eng = _engine(*GROUP)
    ok(eng, C.Split(2, "alice", ANN, 10))
    ok(eng, C.ConvertNo(2, "alice", "ELECTION", ANN, 10))  # 10 YES of ben and cat, 10 YES ann kept
    ok(eng, C.Split(2, "bob", CAT, 1))
    ok(eng, C.ProposeResolution(CLOSE, "oracle", "ELECTION", "invalid"))
    evs = ok(eng, C.FinalizeResolution(CLOSE + HOUR2, "ELECTION"))
    # alice 30 YES x 100/3 = 1000; bob 1 YES + 1 NO = 100/3 + 200/3 = 100
    assert [(e.account, e.amount) for e in evs if isinstance(e, E.Payout)] == [("alice", 1_000), ("bob", 100)]
    assert (evs[-1].collateral, evs[-1].dust) == (1_100, 0)


def test_group_winner_pays_its_yes_and_every_other_no() -> None:
    eng = _engine(*GROUP)
    ok(eng, C.Split(2, "alice", ANN, 4))
    ok(eng, C.Split(2, "bob", BEN, 2))
    ok(eng, C.ProposeResolution(CLOSE, "oracle", "ELECTION", BEN))
    evs = ok(eng, C.FinalizeResolution(CLOSE + HOUR2, "ELECTION"))
    assert [(e.account, e.amount) for e in evs if isinstance(e, E.Payout)] == [("alice", 400), ("bob", 200)]


def test_fees_on_a_burn_and_a_transfer_are_taken_from_proceeds() -> None:
    eng = _engine(pred_spec(maker_fee_bps=10, taker_fee_bps=50, deployer_fee_share_bps=5000))
    ok(eng, C.Split(2, "alice", "BIN", 100))
    ok(eng, C.Split(2, "bob", "BIN", 100))
    ok(eng, po("alice", "sell", 70, 100))  # YES ask at 70
    evs = ok(eng, po("bob", "sell", 25, 100, "no"))  # NO sell at 25 = YES bid at 75: burns at 70
    [t] = [e for e in evs if isinstance(e, E.PredictionTrade)]
    # bob: NO at 30 x 100 = 3000, fee ceil(3000 * 50 / 10^4) = 15; alice: 7000, fee ceil(7) = 7
    assert (t.settlement, t.taker_price, t.maker_price, t.taker_fee, t.maker_fee) == ("burn", 30, 70, 15, 7)
    assert bal(eng, "bob") == (FUNDS - 10_000 + 3_000 - 15, 0)
    assert bal(eng, "alice") == (FUNDS - 10_000 + 7_000 - 7, 0)
    assert bal(eng, deployer_fee_account("0xdeployer"))[0] + bal(eng, PROTOCOL_FEE_ACCOUNT)[0] == 22
    # a transfer: alice sells 10 of her NO to carol
    ok(eng, po("alice", "sell", 41, 10, "no", ts=3))  # YES bid at 59
    evs = ok(eng, po("carol", "buy", 45, 10, "no", ts=3))  # YES ask at 55 <= 59: NO moves at 41
    [t] = [e for e in evs if isinstance(e, E.PredictionTrade)]
    assert (t.settlement, t.taker_price, t.maker_price, t.taker_fee, t.maker_fee) == ("transfer", 41, 41, 3, 1)
    assert bal(eng, "carol") == (FUNDS - 410 - 3, 0)
    assert bal(eng, "carol", "BIN:NO") == (10, 0)


def test_no_orders_release_the_right_asset_on_cancel_halt_and_expiry(eng: Engine) -> None:
    ok(eng, C.Split(2, "alice", "BIN", 10))
    ok(eng, po("alice", "sell", 30, 4, "no"))  # holds 4 NO
    ok(eng, po("alice", "buy", 20, 3, "no", expiry_ts=5))  # holds 60 collateral, YES ask at 80
    assert bal(eng, "alice", "BIN:NO") == (6, 4)
    assert bal(eng, "alice") == (FUNDS - 1_000 - 60, 60)
    # bob's YES buy at 80 meets the expired NO buy first: it is cancelled, not traded
    evs = ok(eng, po("bob", "buy", 80, 1, ts=6, tif="ioc"))
    assert [(e.order_id, e.reason) for e in evs if isinstance(e, E.OrderCancelled)] == [(2, "expired"), (3, "ioc")]
    assert bal(eng, "alice") == (FUNDS - 1_000, 0)
    evs = ok(eng, C.HaltMarket(7, "BIN"))
    assert bal(eng, "alice", "BIN:NO") == (10, 0)


def test_fok_and_post_only_for_no_orders(eng: Engine) -> None:
    ok(eng, po("alice", "buy", 60, 2))  # YES bid 60 = NO ask at 40
    [rej] = eng.apply(po("bob", "buy", 45, 3, "no", tif="fok"))
    assert rej.reason == "fok_cannot_fill"
    [rej] = eng.apply(po("bob", "buy", 41, 1, "no", tif="post_only"))  # YES ask 59 would cross 60
    assert rej.reason == "post_only_would_cross"
    assert rej.detail == "buy no at 41 (a YES-book ask at 59) would cross the best bid 60"
    evs = ok(eng, po("bob", "buy", 40, 2, "no", tif="fok"))
    assert fills(evs) == [("mint", 60, 2, "bob", 40, "alice", 60)]


def test_dispute_window_edges(eng: Engine) -> None:
    _positions(eng)
    ok(eng, C.ProposeResolution(CLOSE, "oracle", "BIN", "no"))
    ok(eng, C.Dispute(CLOSE + HOUR2 - 1, "alice", "BIN"))  # the last millisecond of the window
    [rej] = eng.apply(C.FinalizeResolution(CLOSE + HOUR2, "BIN"))
    assert rej.reason == "resolution_disputed"
