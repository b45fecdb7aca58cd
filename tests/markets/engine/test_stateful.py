"""Property test: random command streams keep the ledger and books consistent and replayable.

After every step: per-asset conservation (all accounts, fee accounts included, sum to
deposits minus withdrawals), no negative balance, reserved == needs of resting orders,
no crossed book, and a rejected command leaves the state untouched. At the end of every
example: replaying the command log into a fresh Engine, and restoring a JSON snapshot,
both reproduce the state hash.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from markets.engine import CodecError, Engine
from markets.engine import commands as C
from markets.engine import events as E

from .conftest import assert_no_engine_cycles, check_invariants, watch_cycles

BOND = 100 * 10**18  # the launch minimum for spot markets
ACCOUNTS = ["a0", "a1", "a2", "a3"]  # "nobody" (never funded) appears through `rare`
ASSETS = ["USD", "X", "Y"]
MARKETS = {
    # market: (base, quote, tick, lot, min, maker bps, taker bps, deployer share bps)
    "X-USD": ("X", "USD", 3, 7, 1, 0, 0, 0),
    "Y-USD": ("Y", "USD", 1, 5, 2, -3, 7, 3000),
    "X-Y": ("X", "Y", 2, 1, 1, 5, 10, 10_000),
}

accounts = st.sampled_from(ACCOUNTS)
markets = st.sampled_from(sorted(MARKETS))
order_shapes = st.sampled_from(
    [("limit", "gtc")] * 4
    + [("limit", "ioc"), ("limit", "fok"), ("limit", "post_only"), ("market", "ioc"), ("market", "fok")]
)
stps = st.sampled_from(["cancel_resting", "cancel_taking", "cancel_both"])
sides = st.sampled_from(["buy", "sell"])
prices = st.integers(95, 105)
sizes = st.integers(1, 40)
expiries = st.sampled_from([0, 0, 0, 1, 5, 30])
clients = st.sampled_from(["", "", "new", "reuse"])


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        watch_cycles()
        self.eng = Engine()
        self.log: list[Any] = []
        self.totals: dict[str, int] = {}
        self.ts = 1
        self.n = 0  # id counter for deposits / withdrawals / client ids
        self.order_ids: list[int] = []
        self.client_ids: list[tuple[str, str]] = []
        self.withdrawals: list[str] = []

    def run(self, cmd: Any) -> list[Any]:
        before = self.eng.state_hash(include_seq=False)
        seq = self.eng.seq
        evs = self.eng.apply(cmd)
        self.log.append(cmd)
        assert [e.seq for e in evs] == list(range(seq + 1, seq + 1 + len(evs)))
        if any(isinstance(e, E.Rejected) for e in evs):
            assert len(evs) == 1
            assert self.eng.state_hash(include_seq=False) == before
        for e in evs:
            if isinstance(e, E.DepositCredited):
                self.totals[e.asset] = self.totals.get(e.asset, 0) + e.amount
            elif isinstance(e, E.WithdrawalAuthorized):
                self.totals[e.asset] -= e.amount
                self.withdrawals.append(e.withdrawal_id)
            elif isinstance(e, E.WithdrawalExpired):
                self.totals[e.asset] += e.amount
            elif isinstance(e, E.OrderAccepted):
                self.order_ids.append(e.order_id)
                if e.client_id:
                    self.client_ids.append((e.account, e.client_id))
        return evs

    @initialize()
    def launch(self) -> None:
        for mid, (base, quote, tick, lot, mn, mk, tk, share) in sorted(MARKETS.items()):
            evs = self.run(
                C.LaunchMarket(self.ts, mid, "spot", base, quote, tick, lot, mn, mk, tk, share, "0xdep", bond=BOND)
            )
            assert isinstance(evs[0], E.MarketLaunched)
        for i, acct in enumerate(ACCOUNTS):
            for asset in ASSETS:
                self.run(C.DepositCredit(self.ts, f"init-{acct}-{asset}", acct, asset, 20_000 * (i + 1)))

    @rule(dt=st.integers(0, 20))
    def tick(self, dt: int) -> None:
        self.ts += dt

    @rule(account=accounts, asset=st.sampled_from(ASSETS), amount=st.integers(-1, 50_000), dup=st.booleans())
    def deposit(self, account: str, asset: str, amount: int, dup: bool) -> None:
        if not dup:
            self.n += 1
        self.run(C.DepositCredit(self.ts, f"dep-{self.n}", account, asset, amount))

    def _place(
        self,
        account: str,
        market: str,
        side: str,
        price: int,
        size: int,
        shape: tuple[str, str],
        stp: str,
        expiry: int,
        client: str,
    ) -> None:
        cid = ""
        if client == "new":
            self.n += 1
            cid = f"c{self.n}"
        elif client == "reuse" and self.client_ids:
            cid = self.client_ids[self.n % len(self.client_ids)][1]
        order_type, tif = shape
        self.run(
            C.PlaceOrder(
                self.ts,
                account,
                market,
                side,
                price,
                size,
                order_type,
                tif,
                stp,
                cid,
                self.ts + expiry if expiry else 0,
            )
        )

    # placing orders is most of the traffic: three rules share the work so it is drawn often
    @rule(
        account=accounts,
        market=markets,
        side=sides,
        price=prices,
        size=sizes,
        shape=order_shapes,
        stp=stps,
        expiry=expiries,
        client=clients,
    )
    def place(self, **kw: Any) -> None:
        self._place(**kw)

    @rule(
        account=accounts,
        market=markets,
        side=sides,
        price=prices,
        size=sizes,
        shape=order_shapes,
        stp=stps,
        expiry=expiries,
        client=clients,
    )
    def place_more(self, **kw: Any) -> None:
        self._place(**kw)

    @rule(account=accounts, market=markets, side=sides, price=prices, size=sizes, stp=stps)
    def place_gtc(self, **kw: Any) -> None:
        self._place(shape=("limit", "gtc"), expiry=0, client="", **kw)

    @precondition(lambda self: bool(self.order_ids))
    @rule(account=accounts, pick=st.integers(0, 10_000))
    def cancel(self, account: str, pick: int) -> None:
        self.run(C.CancelOrder(self.ts, account, order_id=self.order_ids[pick % len(self.order_ids)]))

    @precondition(lambda self: bool(self.client_ids))
    @rule(pick=st.integers(0, 10_000))
    def cancel_by_client_id(self, pick: int) -> None:
        account, cid = self.client_ids[pick % len(self.client_ids)]
        self.run(C.CancelOrder(self.ts, account, client_id=cid))

    @rule(account=accounts, market=st.sampled_from(["", *sorted(MARKETS)]))
    def cancel_all(self, account: str, market: str) -> None:
        self.run(C.CancelAll(self.ts, account, market))

    @rule(account=accounts, asset=st.sampled_from(ASSETS), amount=st.integers(0, 3_000), ttl=st.integers(0, 40))
    def withdraw(self, account: str, asset: str, amount: int, ttl: int) -> None:
        self.n += 1
        self.run(C.WithdrawRequest(self.ts, f"w{self.n}", account, asset, amount, self.ts + ttl))

    @precondition(lambda self: bool(self.withdrawals))
    @rule(pick=st.integers(0, 10_000), execute=st.booleans())
    def settle_withdrawal(self, pick: int, execute: bool) -> None:
        wid = self.withdrawals[pick % len(self.withdrawals)]
        self.run(C.WithdrawExecuted(self.ts, wid) if execute else C.WithdrawExpire(self.ts, wid))

    @rule(asset=st.sampled_from(["USD", "Y"]), amount=st.integers(0, 300), thief=st.booleans())
    def claim_fees(self, asset: str, amount: int, thief: bool) -> None:
        """The deployer takes some of its fees into its own account (a transfer: totals stay)."""
        self.run(C.ClaimFees(self.ts, "sys:deployer:0xdep", asset, amount, "a0" if thief else "0xdep"))

    @rule(market=st.sampled_from(["", *sorted(MARKETS)]), limit=st.integers(1, 3))
    def expire(self, market: str, limit: int) -> None:
        evs = self.run(C.ExpireOrders(self.ts, market, limit))
        if not evs or not evs[-1].more:  # the sweep is complete: nothing expired is left in its scope
            left = [o for o in self.eng.orders.values() if o.expiry_ts and o.expiry_ts <= self.ts]
            assert not [o for o in left if not market or o.market_id == market]

    @rule(pick=st.integers(0, 40))
    def rare(self, pick: int) -> None:
        """Now and then: halt one market, or send a command that must be rejected."""
        if pick == 13:
            self.run(C.HaltMarket(self.ts, "X-Y", "test"))
        elif pick in (7, 8, 9, 10):
            bad: Any = [
                C.PlaceOrder(self.eng.last_ts - 1, "a0", "X-USD", "buy", 100, 1),
                C.PlaceOrder(self.ts, "a0", "X-USD", "buy", "100", 1),  # type: ignore[arg-type]
                C.CancelOrder(self.ts, "a0", order_id=10**9),
                C.PlaceOrder(self.ts, "nobody", "X-USD", "buy", 100, 1),
            ][pick - 7]
            evs = self.run(bad)
            assert isinstance(evs[0], E.Rejected)

    @rule()
    def restart(self) -> None:
        """The sequencer restarts: the engine restored from its snapshot (through JSON) carries on."""
        before = self.eng.state_hash()
        self.eng = Engine.restore(json.loads(json.dumps(self.eng.snapshot())))
        assert self.eng.state_hash() == before

    @invariant()
    def consistent(self) -> None:
        check_invariants(self.eng, self.totals)

    def teardown(self) -> None:
        assert_no_engine_cycles()
        replay = Engine()
        for cmd in self.log:
            # through the wire format, as the sequencer replays its log; the deliberately
            # malformed commands of `rare` cannot be encoded and are replayed as they are
            with contextlib.suppress(CodecError):
                cmd = C.from_dict(json.loads(json.dumps(C.to_dict(cmd))))
            replay.apply(cmd)
        assert replay.state_hash() == self.eng.state_hash()
        restored = Engine.restore(json.loads(json.dumps(self.eng.snapshot())))
        assert restored.state_hash() == self.eng.state_hash()


EngineMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    print_blob=True,
)
TestEngineStateful = EngineMachine.TestCase


class SoakMachine(EngineMachine):
    """The same machine, longer: `make soak` (``-m soak``) only."""


SoakMachine.TestCase.settings = settings(
    max_examples=3_000,
    stateful_step_count=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestEngineSoak = pytest.mark.soak(SoakMachine.TestCase)
