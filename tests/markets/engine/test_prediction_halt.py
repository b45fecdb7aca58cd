"""Halted prediction markets (what is refused, what keeps working) and the payout's holder index."""

from __future__ import annotations

import json
from typing import Any

from markets.engine import Engine
from markets.engine import commands as C
from markets.engine import events as E
from markets.engine.prediction import collateral_account

from .pred_helpers import CLOSE, HOUR2, USD, check_prediction_invariants, group_specs, pred_spec

FUNDS = 100_000
TRADERS = ("alice", "bob", "carol", "dave", "erin")  # erin never holds shares
TOTALS = {USD: len(TRADERS) * FUNDS}
GROUP = group_specs("CUP", ["bra", "fra", "other"], rule="other")


def _engine(*specs: C.LaunchMarket) -> Engine:
    eng = Engine()
    for cmd in [*specs, *(C.DepositCredit(1, f"dep-{who}", who, USD, FUNDS) for who in TRADERS)]:
        evs = eng.apply(cmd)
        assert not any(isinstance(e, E.Rejected) for e in evs), evs
    return eng


def ok(eng: Engine, cmd: Any) -> list[Any]:
    evs = eng.apply(cmd)
    assert not any(isinstance(e, E.Rejected) for e in evs), evs
    check_prediction_invariants(eng, TOTALS)
    return evs


def rejected(eng: Engine, cmd: Any) -> str:
    before = eng.state_hash(include_seq=False)
    [rej] = eng.apply(cmd)
    assert isinstance(rej, E.Rejected) and rej.detail
    assert eng.state_hash(include_seq=False) == before
    return rej.reason


def _halted_binary() -> Engine:
    # given alice holds 10 YES (bought from bob, who holds 10 NO) and 5 sets, and a resting bid
    eng = _engine(pred_spec())
    ok(eng, C.PlaceOrder(2, "alice", "BIN", "buy", 60, 10))
    ok(eng, C.PlaceOrder(2, "bob", "BIN", "buy", 40, 10, outcome="no"))
    ok(eng, C.Split(2, "alice", "BIN", 5))
    ok(eng, C.PlaceOrder(2, "carol", "BIN", "buy", 30, 4))
    evs = ok(eng, C.HaltMarket(3, "BIN", "review"))
    # the halt cancelled carol's bid and released her 120
    assert [(type(e), e.reason) for e in evs] == [(E.OrderCancelled, "halt"), (E.MarketHalted, "review")]
    assert eng.balance("carol", USD) == (FUNDS, 0)
    return eng


def test_a_halted_market_refuses_new_exposure() -> None:
    eng = _halted_binary()
    assert rejected(eng, C.PlaceOrder(4, "carol", "BIN", "buy", 50, 1)) == "market_halted"
    assert rejected(eng, C.PlaceOrder(4, "alice", "BIN", "sell", 50, 1)) == "market_halted"
    assert rejected(eng, C.PlaceOrder(4, "bob", "BIN", "buy", 50, 1, outcome="no")) == "market_halted"
    assert rejected(eng, C.Split(4, "carol", "BIN", 1)) == "market_halted"


def test_a_halted_market_lets_holders_merge_out() -> None:
    eng = _halted_binary()
    evs = ok(eng, C.Merge(4, "alice", "BIN", 5))
    assert evs == [E.SharesMerged(evs[0].seq, "BIN", "alice", 5, 500)]
    assert eng.balance("alice", USD) == (FUNDS - 600 - 500 + 500, 0)
    assert eng.balance(collateral_account("BIN"), USD) == (1_000, 0)


def test_a_halted_market_still_resolves_disputes_and_pays_out() -> None:
    eng = _halted_binary()
    ok(eng, C.ProposeResolution(CLOSE, "oracle", "BIN", "no"))
    ok(eng, C.Dispute(CLOSE + 1, "carol", "BIN"))
    evs = ok(eng, C.GovernanceDecision(CLOSE + 2, "BIN", "yes", "case-7"))
    # upheld: carol's bond (1,000) back; YES pays: alice 10 + 5 YES = 1,500, bob's NO nothing
    assert [(type(e), getattr(e, "account", "")) for e in evs] == [
        (E.DisputeDecided, ""),
        (E.Payout, "alice"),
        (E.ResolutionFinal, ""),
    ]
    assert evs[1].amount == 1_500
    assert (evs[2].collateral, evs[2].paid, evs[2].dust) == (1_500, 1_500, 0)
    assert eng.balance("carol", USD) == (FUNDS, 0)
    assert eng.balance("alice", USD) == (FUNDS - 600 - 500 + 1_500, 0)


def test_a_halted_market_finalises_without_dispute() -> None:
    eng = _halted_binary()
    ok(eng, C.ProposeResolution(CLOSE, "oracle", "BIN", "no"))
    evs = ok(eng, C.FinalizeResolution(CLOSE + HOUR2, "BIN"))
    assert [(e.account, e.amount) for e in evs if isinstance(e, E.Payout)] == [("alice", 500), ("bob", 1_000)]


def test_a_halted_outcome_freezes_conversion_and_new_outcomes_of_its_group() -> None:
    # given alice holds 10 sets of each outcome, and the "fra" outcome is halted
    eng = _engine(*GROUP)
    for mid in ("CUP-bra", "CUP-fra", "CUP-other"):
        ok(eng, C.Split(2, "alice", mid, 10))
    ok(eng, C.HaltMarket(3, "CUP-fra", "review"))
    # conversion is refused whichever outcomes it names, and so is a new outcome
    assert rejected(eng, C.ConvertNo(4, "alice", "CUP", "CUP-bra", 1)) == "market_halted"
    assert rejected(eng, C.ConvertNo(4, "alice", "CUP", "CUP-fra,CUP-bra", 1)) == "market_halted"
    assert rejected(eng, C.AddOutcome(4, "0xdeployer", "CUP", "CUP-arg", "arg")) == "market_halted"
    # the other outcomes still trade and split; the halted one merges
    ok(eng, C.Split(4, "bob", "CUP-bra", 2))
    ok(eng, C.PlaceOrder(4, "bob", "CUP-bra", "sell", 55, 1))
    assert rejected(eng, C.Split(4, "bob", "CUP-fra", 2)) == "market_halted"
    ok(eng, C.Merge(4, "alice", "CUP-fra", 10))
    assert eng.balance("alice", "CUP-fra:YES") == (0, 0)


def test_a_halted_member_freezes_the_forming_group() -> None:
    eng = _engine(*GROUP[:2])
    ok(eng, C.HaltMarket(3, "CUP-bra", "review"))
    assert rejected(eng, GROUP[2]._replace(ts=4)) == "market_halted"


# -- payout over the holder index ---------------------------------------------------------------


def test_payout_walks_only_holders_and_pays_exactly() -> None:
    # given shares reach accounts by a mint, a transfer, a split and a sub-account transfer
    eng = _engine(pred_spec())
    ok(eng, C.PlaceOrder(2, "alice", "BIN", "buy", 60, 10))
    ok(eng, C.PlaceOrder(2, "bob", "BIN", "buy", 40, 10, outcome="no"))  # mint: alice 10 YES, bob 10 NO
    ok(eng, C.PlaceOrder(2, "alice", "BIN", "sell", 70, 4))
    ok(eng, C.PlaceOrder(2, "carol", "BIN", "buy", 70, 4))  # transfer: carol 4 YES
    ok(eng, C.Split(2, "dave", "BIN", 3))  # dave 3 YES + 3 NO
    ok(eng, C.SubaccountTransfer(2, "dave", "dave:1", "BIN:NO", 2))  # dave:1 2 NO
    assert eng.pred.markets["BIN"].holders == {"alice", "bob", "carol", "dave", "dave:1"}
    # when NO wins
    ok(eng, C.ProposeResolution(CLOSE, "oracle", "BIN", "no"))
    evs = ok(eng, C.FinalizeResolution(CLOSE + HOUR2, "BIN"))
    # then: NO holders only, in account id order; alice (6 YES), carol (4 YES) and erin get no event
    assert [(e.account, e.amount) for e in evs if isinstance(e, E.Payout)] == [
        ("bob", 1_000),
        ("dave", 100),
        ("dave:1", 200),
    ]
    final = evs[-1]
    assert (final.collateral, final.paid, final.dust) == (1_300, 1_300, 0)
    assert eng.pred.markets["BIN"].holders == set()
    assert eng.balance("erin", USD) == (FUNDS, 0)
    for who in ("alice", "carol", "dave"):
        assert eng.balance(who, "BIN:YES") == (0, 0)


def test_the_holder_index_is_rebuilt_on_restore_and_is_not_in_the_hash() -> None:
    eng = _engine(pred_spec(), *GROUP)
    ok(eng, C.Split(2, "alice", "CUP-bra", 2))
    ok(eng, C.PlaceOrder(2, "bob", "BIN", "buy", 60, 1))
    ok(eng, C.PlaceOrder(2, "carol", "BIN", "buy", 40, 1, outcome="no"))
    restored = Engine.restore(json.loads(json.dumps(eng.snapshot())))
    assert {mid: pm.holders for mid, pm in restored.pred.markets.items()} == {
        "BIN": {"bob", "carol"},
        "CUP-bra": {"alice"},
        "CUP-fra": set(),
        "CUP-other": set(),
    }
    assert restored.state_hash() == eng.state_hash()
    eng.pred.markets["BIN"].holders.add("nobody")
    assert restored.state_hash() == eng.state_hash()
