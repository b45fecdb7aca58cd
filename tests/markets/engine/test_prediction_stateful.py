"""Property test for prediction markets: random trading, splits, merges, conversions, resolutions.

Two pools: a binary market "B" (fees) and a group "G" of three outcomes (rule "other"; its
third outcome is launched by a rule, so conversions meet an unformed group at first).
After every step: collateral conservation over all accounts (fee, insurance, collateral and
dispute-escrow accounts included), every share asset's ledger total equals its supply,
per binary market YES = NO = locked / unit, per group YES - NO equal across outcomes and
locked = (sum NO + that excess) x unit, no negative balance, reserved == needs of resting
orders, no crossed book, and a rejected command changes nothing. On final resolution the
payouts plus dust equal the collateral the pool held. At the end of every example, replaying
the command log through the codec, and restoring a JSON snapshot, reproduce the state hash.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from markets.engine import Engine
from markets.engine import commands as C
from markets.engine import events as E

from .conftest import assert_no_engine_cycles, watch_cycles
from .pred_helpers import HOUR2, USD, check_prediction_invariants, group_specs, pred_spec

ACCOUNTS = ["a0", "a1", "a2", "a3"]
B_CLOSE = 300
G_CLOSE = 600
FEES = dict(tick_size=2, lot_size=200, maker_fee_bps=3, taker_fee_bps=11, deployer_fee_share_bps=2500)
B_SPEC = pred_spec("B", close_ts=B_CLOSE, dispute_bond=2_000, invalid_split_bps=3_333, **FEES)
G_SPECS = group_specs("G", ["x", "y", "other"], rule="other", close_ts=G_CLOSE, dispute_bond=2_000, **FEES)
MARKETS = ["B", "G-x", "G-y", "G-other", "G-z"]  # G-z only exists after AddOutcome

accounts = st.sampled_from(ACCOUNTS)
markets = st.sampled_from(MARKETS[:4])
order_shapes = st.sampled_from(
    [("limit", "gtc")] * 4
    + [("limit", "ioc"), ("limit", "fok"), ("limit", "post_only"), ("market", "ioc"), ("market", "fok")]
)
stps = st.sampled_from(["cancel_resting", "cancel_taking", "cancel_both"])
sides = st.sampled_from(["buy", "sell"])
outcomes = st.sampled_from(["yes", "no"])
prices = st.sampled_from([1, 40, 45, 48, 50, 52, 55, 60, 99])
sizes = st.integers(1, 30)
expiries = st.sampled_from([0, 0, 0, 1, 5, 30])
pools = st.sampled_from(["B", "G"])
resolutions = st.sampled_from(["yes", "no", "invalid", "G-x", "G-y", "G-other", "G-z"])


class PredictionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        watch_cycles()
        self.eng = Engine()
        self.log: list[Any] = []
        self.totals: dict[str, int] = {}
        self.ts = 1
        self.n = 0
        self.order_ids: list[int] = []

    def run(self, cmd: Any) -> list[Any]:
        before = self.eng.state_hash(include_seq=False)
        seq = self.eng.seq
        evs = self.eng.apply(cmd)
        self.log.append(cmd)
        assert [e.seq for e in evs] == list(range(seq + 1, seq + 1 + len(evs)))
        for e in evs:
            assert E.from_dict(json.loads(json.dumps(E.to_dict(e)))) == e
        if any(isinstance(e, E.Rejected) for e in evs):
            assert len(evs) == 1
            assert self.eng.state_hash(include_seq=False) == before
        paid = 0
        for e in evs:
            if isinstance(e, E.DepositCredited):
                self.totals[e.asset] = self.totals.get(e.asset, 0) + e.amount
            elif isinstance(e, E.PredictionOrderAccepted):
                self.order_ids.append(e.order_id)
            elif isinstance(e, E.Payout):
                assert e.amount > 0
                paid += e.amount
            elif isinstance(e, E.ResolutionFinal):
                assert e.paid == paid and e.paid + e.dust == e.collateral
                assert 0 <= e.dust < len(self.eng.accounts)
        return evs

    @initialize(formed=st.booleans())
    def launch(self, formed: bool) -> None:
        for spec in [B_SPEC, *G_SPECS[: 3 if formed else 2]]:
            evs = self.run(spec)
            assert isinstance(evs[0], E.MarketLaunched), evs
        for i, acct in enumerate(ACCOUNTS):
            self.run(C.DepositCredit(self.ts, f"init-{acct}", acct, USD, 30_000 * (i + 1)))

    @rule(dt=st.sampled_from([0, 1, 10, 50, 200]))
    def tick(self, dt: int) -> None:
        self.ts += dt

    @precondition(lambda self: self.ts >= B_CLOSE)
    @rule(dt=st.sampled_from([HOUR2 - 1, HOUR2]))
    def tick_window(self, dt: int) -> None:
        self.ts += dt

    def _place(self, account: str, market: str, side: str, outcome: str, price: int, size: int,
               shape: tuple[str, str], stp: str, expiry: int) -> None:  # fmt: skip
        order_type, tif = shape
        self.run(
            C.PlaceOrder(
                self.ts, account, market, side, price, size, order_type, tif, stp, "",
                self.ts + expiry if expiry else 0, outcome=outcome,
            )
        )  # fmt: skip

    # orders are most of the traffic: several rules share the work so they are drawn often
    @rule(account=accounts, market=markets, side=sides, outcome=outcomes, price=prices, size=sizes,
          shape=order_shapes, stp=stps, expiry=expiries)  # fmt: skip
    def place(self, **kw: Any) -> None:
        self._place(**kw)

    @rule(account=accounts, market=markets, outcome=outcomes, price=prices, size=sizes, stp=stps)
    def buy_gtc(self, **kw: Any) -> None:
        self._place(side="buy", shape=("limit", "gtc"), expiry=0, **kw)

    @rule(account=accounts, market=markets, outcome=outcomes, price=prices, size=sizes, stp=stps)
    def buy_gtc_more(self, **kw: Any) -> None:
        self._place(side="buy", shape=("limit", "gtc"), expiry=0, **kw)

    def _sell_held(self, account: str, price: int, size: int, shape: tuple[str, str], pick: int) -> None:
        held = [(mid, oc) for mid in MARKETS for oc in ("yes", "no") if self._held(account, mid, oc) > 0]
        if not held:
            self.run(C.Split(self.ts, account, MARKETS[pick % 4], size))
            return
        market, outcome = held[pick % len(held)]
        size = min(size, self._held(account, market, outcome))
        self._place(account, market, "sell", outcome, price, size, shape, "cancel_taking", 0)

    def _held(self, account: str, market: str, outcome: str) -> int:
        return self.eng.balance(account, f"{market}:{outcome.upper()}")[0]

    @rule(account=accounts, price=prices, size=sizes, shape=order_shapes, pick=st.integers(0, 9))
    def sell_held(self, **kw: Any) -> None:
        """Sell shares the account holds (or split some first), so transfers and burns happen often."""
        self._sell_held(**kw)

    @rule(account=accounts, price=prices, size=sizes, pick=st.integers(0, 9))
    def sell_held_gtc(self, **kw: Any) -> None:
        self._sell_held(shape=("limit", "gtc"), **kw)

    @precondition(lambda self: bool(self.order_ids))
    @rule(account=accounts, pick=st.integers(0, 10_000))
    def cancel(self, account: str, pick: int) -> None:
        self.run(C.CancelOrder(self.ts, account, order_id=self.order_ids[pick % len(self.order_ids)]))

    @rule(account=accounts, market=st.sampled_from(["", *MARKETS[:4]]))
    def cancel_all(self, account: str, market: str) -> None:
        self.run(C.CancelAll(self.ts, account, market))

    @rule(market=st.sampled_from(["", *MARKETS[:4]]), limit=st.integers(1, 3))
    def expire(self, market: str, limit: int) -> None:
        evs = self.run(C.ExpireOrders(self.ts, market, limit))
        if evs and isinstance(evs[0], E.Rejected):  # a group member not launched yet
            return
        if not evs or not evs[-1].more:  # the sweep is complete: nothing expired is left in its scope
            left = [o for o in self.eng.orders.values() if o.expiry_ts and o.expiry_ts <= self.ts]
            assert not [o for o in left if not market or o.market_id == market]

    @rule(account=accounts, market=markets, amount=st.integers(1, 40))
    def split(self, account: str, market: str, amount: int) -> None:
        self.run(C.Split(self.ts, account, market, amount))

    @rule(account=accounts, market=markets, amount=st.integers(1, 40), over=st.booleans())
    def merge(self, account: str, market: str, amount: int, over: bool) -> None:
        if not over:
            amount = max(1, min(amount, self._held(account, market, "yes"), self._held(account, market, "no")))
        self.run(C.Merge(self.ts, account, market, amount))

    @rule(account=accounts, amount=st.integers(1, 10), k=st.integers(1, 4), over=st.booleans())
    def convert(self, account: str, amount: int, k: int, over: bool) -> None:
        """Convert NO shares the account holds (or, with ``over``, more than it holds)."""
        held = [mid for mid in MARKETS[1:] if self._held(account, mid, "no") > 0][:k] or ["G-x"]
        if not over:
            amount = max(1, min([amount] + [self._held(account, mid, "no") for mid in held]))
        self.run(C.ConvertNo(self.ts, account, "G", ",".join(held), amount))

    def _status(self, pool: str) -> str:
        return self.eng.pred.pools[pool].status

    @precondition(
        lambda self: any(self._status(p) == "open" and self.ts >= c for p, c in (("B", B_CLOSE), ("G", G_CLOSE)))
    )
    @rule(pool=pools, outcome=resolutions)
    def propose(self, pool: str, outcome: str) -> None:
        if pool == "B":
            outcome = outcome if outcome in ("yes", "no", "invalid") else "no"
        elif outcome in ("yes", "no"):
            outcome = "G-x"
        self.run(C.ProposeResolution(self.ts, "oracle", pool, outcome))

    @precondition(lambda self: any(self._status(p) == "proposed" for p in ("B", "G")))
    @rule(pool=pools, account=accounts)
    def dispute(self, pool: str, account: str) -> None:
        self.run(C.Dispute(self.ts, account, pool))

    @precondition(lambda self: any(self._status(p) == "disputed" for p in ("B", "G")))
    @rule(outcome=resolutions, same=st.booleans())
    def decide(self, outcome: str, same: bool) -> None:
        pool = "B" if self._status("B") == "disputed" else "G"
        if same:
            outcome = self.eng.pred.pools[pool].proposed
        self.run(C.GovernanceDecision(self.ts, pool, outcome, "case-1"))

    @precondition(lambda self: any(self._status(p) == "proposed" for p in ("B", "G")))
    @rule(pool=pools)
    def finalize(self, pool: str) -> None:
        self.run(C.FinalizeResolution(self.ts, pool))

    @rule(pick=st.integers(0, 15), account=accounts, amount=st.integers(-1, 20_000), outcome=resolutions)
    def rare(self, pick: int, account: str, amount: int, outcome: str) -> None:
        """Group formation and growth, deposits, and commands that are mostly rejected."""
        if pick <= 1:
            self.run(G_SPECS[2]._replace(ts=self.ts))
        elif pick <= 3:
            self.run(C.AddOutcome(self.ts, "0xdeployer" if pick == 2 else account, "G", "G-z", "z"))
        elif pick <= 6:
            self.n += 1
            self.run(C.DepositCredit(self.ts, f"dep-{self.n}", account, USD, amount))
        elif pick == 7:
            self.run(C.ProposeResolution(self.ts, account, "B", "yes"))
        elif pick == 8:
            self.run(C.ProposeResolution(self.ts, "oracle", "G", outcome))
        elif pick == 9:
            self.run(C.Dispute(self.ts, account, "G"))
        elif pick == 10:
            self.run(C.GovernanceDecision(self.ts, "B", outcome))
        elif pick == 11:
            self.run(C.FinalizeResolution(self.ts, "G"))
        elif pick == 12:
            self.run(C.PlaceOrder(self.ts, account, "B", "buy", amount % 102, 1, outcome="no"))
        elif pick == 13:
            self.run(C.ConvertNo(self.ts, account, "G", "G-x,G-x", 1))
        elif pick == 14:
            self.run(C.Merge(self.ts, account, "G-y", 0))
        else:
            self.run(C.HaltMarket(self.ts, "G-y", "test"))

    @rule()
    def restart(self) -> None:
        """The sequencer restarts: the engine restored from its snapshot (through JSON) carries on."""
        before = self.eng.state_hash()
        self.eng = Engine.restore(json.loads(json.dumps(self.eng.snapshot())))
        assert self.eng.state_hash() == before

    @invariant()
    def consistent(self) -> None:
        check_prediction_invariants(self.eng, self.totals)

    def teardown(self) -> None:
        assert_no_engine_cycles()
        replay = Engine()
        for cmd in self.log:
            replay.apply(C.from_dict(json.loads(json.dumps(C.to_dict(cmd)))))
        assert replay.state_hash() == self.eng.state_hash()
        restored = Engine.restore(json.loads(json.dumps(self.eng.snapshot())))
        assert restored.state_hash() == self.eng.state_hash()


PredictionMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    print_blob=True,
)
TestPredictionStateful = PredictionMachine.TestCase


class PredictionSoakMachine(PredictionMachine):
    """The same machine, longer: `make soak` (``-m soak``) only."""


PredictionSoakMachine.TestCase.settings = settings(
    max_examples=3_000,
    stateful_step_count=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestPredictionSoak = pytest.mark.soak(PredictionSoakMachine.TestCase)
