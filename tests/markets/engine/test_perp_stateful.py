"""Property test for perps: random (and hostile) command streams keep the books, ledger and margin sound.

After every step: per-asset conservation (every ledger balance, fee and insurance accounts
included, plus every position's cash and isolated margin, equals deposits minus
withdrawals); no negative ledger balance; funding pays out exactly what it takes, the
rounding remainder to the insurance fund; an isolated position never takes from the rest of
its domain; open interest is the sum of the longs and equals the sum of the shorts; books
uncrossed; a rejected command changes nothing; the margin index the engine keeps equals one
built afresh (rows, totals at its stored marks), and priced now, market by market or all at
once, its liquidatable set is ``Perp.under_maintenance``. At the end: replay and restore give
the same hash.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from markets.engine import Engine
from markets.engine import commands as C
from markets.engine import events as E
from markets.engine.params import ProtocolParams
from markets.engine.sweep import MarginIndex

from .conftest import assert_no_engine_cycles, check_books, watch_cycles
from .perp_helpers import USD, perp_spec, perp_totals

PARAMS = ProtocolParams(
    graduation_min_age_ms=5_000,
    graduation_min_bond=0,
    graduation_min_oi_lots=1,
    funding_interval_ms=10_000,
    oracle_max_move_bps=1_500,  # hostile pushes move the mark fast enough to liquidate within 100 steps
)
MARKETS = ["G", "N"]  # G graduates early on; N is launched with a big bond but may stay isolated-only
ACCOUNTS = ["a", "a:1", "b", "c"]
SRC = "push:0xoraclekey"

accounts = st.sampled_from(ACCOUNTS)
markets = st.sampled_from(MARKETS)
prices = st.integers(80, 120)
sizes = st.integers(1, 200)
shapes = st.sampled_from([("limit", "gtc")] * 3 + [("limit", "ioc"), ("market", "ioc"), ("limit", "post_only")])


class PerpMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        watch_cycles()
        self.eng = Engine(PARAMS)
        self.log: list[Any] = []
        self.totals: dict[str, int] = {}
        self.ts = 1
        self.n = 0
        self.run(perp_spec("G", margin_tiers="2000:1000:500,0:2000:1000", collateral_weight_bps=7_000))
        self.run(perp_spec("N", maker_fee_bps=-1, taker_fee_bps=3, deployer_fee_share_bps=2_500, access="allowlist"))
        self.run(C.SetRiskClass(1, "G", "cross_eligible"))

    @initialize()
    def fund(self) -> None:
        for who in ACCOUNTS:
            self.deposit(who, 3_000)
            self.run(C.AdjustIsolatedMargin(self.ts, who, "N", 1_000))
        self.deposit("mm", 10**7)
        self.run(C.AdjustIsolatedMargin(self.ts, "mm", "N", 10**6))
        for wallet in ("a", "b", "mm"):
            self.run(C.SetAllowlist(self.ts, "N", "0xdeployer", wallet, True))
        self.run(C.OraclePrice(self.ts, "G", 100, SRC))
        self.run(C.OraclePrice(self.ts, "N", 100, SRC))

    def run(self, cmd: Any) -> list[Any]:
        eng = self.eng
        before = eng.state_hash(include_seq=False)
        seq = eng.seq
        evs = eng.apply(cmd)
        self.log.append(cmd)
        assert [e.seq for e in evs] == list(range(seq + 1, seq + 1 + len(evs)))
        if any(isinstance(e, E.Rejected) for e in evs):
            assert len(evs) == 1
            assert eng.state_hash(include_seq=False) == before
            if evs[0].command == "liquidate":
                event(f"liquidate:{evs[0].reason}")
            return evs
        payments = 0
        for e in evs:
            if e.type in (
                "trade", "funding_payment", "position_settled", "pnl_realized", "oracle_guard", "liquidation_step",
                "insurance_covered", "deleveraged", "trigger_fired",
            ):  # fmt: skip
                event(e.type)
            if isinstance(e, E.DepositCredited):
                self.totals[e.asset] = self.totals.get(e.asset, 0) + e.amount
            elif isinstance(e, E.WithdrawalAuthorized):
                self.totals[e.asset] -= e.amount
            elif isinstance(e, E.FundingPayment):
                payments += e.amount
            elif isinstance(e, E.FundingSettled):
                # funding sums to zero: what positions paid net goes, exactly, to the insurance fund
                assert e.paid - e.received == e.to_insurance == payments >= 0
                payments = 0
            elif isinstance(e, E.LiquidationFinished) and e.debt:
                # a shortfall is left only once the insurance fund and every profitable position are spent
                for mid in MARKETS:
                    pos = eng.perp.position(e.account, mid)
                    if pos is not None and pos.cash < 0 and not pos.size:
                        assert eng.balance(f"sys:insurance:{mid}", USD)[0] == 0
                event("liquidation_debt")
            elif isinstance(e, E.HaltHaircut):
                assert 0 < e.amount <= e.profit
            elif isinstance(e, E.HaltDebtCovered):
                # a halt covers losers' debt from its own fund, then its winners; what is left means both ran out
                assert e.debt == e.from_insurance + e.from_winners + e.debt_left
                if e.debt_left:
                    assert eng.balance(f"sys:insurance:{e.market_id}", USD)[0] == 0
                event("halt_debt_left" if e.debt_left else "halt_debt_covered")
            elif isinstance(e, E.PnlRealized):
                pos = eng.perp.position(e.account, e.market_id)
                if pos is not None and pos.mode == "isolated":
                    assert e.amount >= 0, "an isolated loss reached the rest of the domain"
        return evs

    def tick(self, dt: int) -> int:
        self.ts += dt
        return self.ts

    @rule(who=accounts, amount=st.integers(1, 5_000))
    def deposit(self, who: str, amount: int) -> None:
        self.n += 1
        self.run(C.DepositCredit(self.ts, f"d{self.n}", who, USD, amount))

    @rule(amount=st.integers(1, 60_000), up=st.booleans())
    def transfer(self, amount: int, up: bool) -> None:
        src, dst = ("a", "a:1") if up else ("a:1", "a")
        self.run(C.SubaccountTransfer(self.ts, src, dst, USD, amount))

    @rule(who=accounts, amount=st.integers(1, 60_000))
    def withdraw(self, who: str, amount: int) -> None:
        self.n += 1
        self.run(C.WithdrawRequest(self.ts, f"w{self.n}", who, USD, amount, self.ts + 1_000_000))

    @rule(who=accounts, market=markets, amount=st.integers(-5_000, 20_000))
    def isolated_margin(self, who: str, market: str, amount: int) -> None:
        self.run(C.AdjustIsolatedMargin(self.ts, who, market, amount))

    @rule(who=accounts, market=markets, mode=st.sampled_from(["cross", "isolated"]))
    def margin_mode(self, who: str, market: str, mode: str) -> None:
        self.run(C.SetMarginMode(self.ts, who, market, mode))

    @rule(
        who=accounts,
        market=markets,
        buy=st.booleans(),
        price=prices,
        size=sizes,
        shape=shapes,
        reduce=st.sampled_from([False, False, False, True]),
    )
    def order(
        self, who: str, market: str, buy: bool, price: int, size: int, shape: tuple[str, str], reduce: bool
    ) -> None:
        otype, tif = shape
        if reduce and tif not in ("ioc",):
            tif = "ioc"
        self.run(
            C.PlaceOrder(self.ts, who, market, "buy" if buy else "sell", price, size, otype, tif, reduce_only=reduce)
        )

    @rule(who=accounts, market=markets, buy=st.booleans(), price=prices, size=sizes)
    def taker(self, who: str, market: str, buy: bool, price: int, size: int) -> None:
        self.run(C.PlaceOrder(self.ts, who, market, "buy" if buy else "sell", price, size, tif="ioc"))

    @rule(who=accounts, market=markets, buy=st.booleans(), price=prices, size=sizes)
    def maker(self, who: str, market: str, buy: bool, price: int, size: int) -> None:
        self.run(C.PlaceOrder(self.ts, who, market, "buy" if buy else "sell", price, size))

    @rule(who=accounts, market=st.sampled_from(["", "G", "N"]))
    def liquidate(self, who: str, market: str) -> None:
        self.run(C.Liquidate(self.ts, who, market))

    @rule()
    def sweep(self) -> None:
        found = self.eng.perp.sweep(self.eng, self.ts)
        assert found == self.eng.perp.under_maintenance(self.eng, self.ts)
        for aid, mid in found:
            self.run(C.Liquidate(self.ts, aid, mid))

    @rule(wallet=st.sampled_from(["a", "b", "c"]), allowed=st.booleans())
    def allowlist(self, wallet: str, allowed: bool) -> None:
        self.run(C.SetAllowlist(self.ts, "N", "0xdeployer", wallet, allowed))

    @rule(market=markets, move=st.integers(-20, 20), dt=st.sampled_from([0, 2_500, 2_500]))
    def market_maker(self, market: str, move: int, dt: int) -> None:
        """A deep-pocketed maker re-quotes ``move`` % away from the oracle, and the oracle follows
        (clamped beyond its guard)."""
        pm = self.eng.perp.markets[market]
        price = max(5, (pm.oracle or 100) * (100 + move) // 100)
        self.run(C.CancelAll(self.ts, "mm", market))
        self.run(C.PlaceOrder(self.ts, "mm", market, "buy", price - 1, 40))
        self.run(C.PlaceOrder(self.ts, "mm", market, "sell", price + 1, 40))
        self.run(C.OraclePrice(self.tick(dt), market, price, SRC))

    @rule(who=accounts, market=markets, buy=st.booleans(), use=st.integers(50, 95))
    def lever_up(self, who: str, market: str, buy: bool, use: int) -> None:
        """Take close to the largest position free collateral allows, from the market maker."""
        eng = self.eng
        pm, m = eng.perp.markets[market], eng.markets[market]
        mark = eng.perp.mark(pm, m, self.ts) or 100
        pos = eng.perp.position(who, market)
        if pos is not None and pos.mode == "isolated":
            room = eng.perp.isolated_margin(eng, pos, self.ts)
            free = room[0] - room[1]
        else:
            free = eng.perp.free_collateral(eng, who, USD, self.ts) if who in eng.accounts else 0
        size = max(1, free * use // (mark * 13))  # ~ initial 10 % plus slippage against the mark
        price = mark + 3 if buy else max(1, mark - 3)
        self.run(C.PlaceOrder(self.ts, who, market, "buy" if buy else "sell", price, size, tif="ioc"))

    @rule(market=markets, down=st.booleans(), steps=st.integers(1, 4))
    def crash(self, market: str, down: bool, steps: int) -> None:
        """The market runs 12 % a step in one direction; liquidations follow each step."""
        for _ in range(steps):
            self.market_maker(market, -12 if down else 12, 2_500)
            self.sweep()

    @rule(
        who=accounts,
        market=markets,
        kind=st.sampled_from(["stop_market", "stop_limit", "take_profit", "stop_loss"]),
        trigger=prices,
        buy=st.booleans(),
        size=sizes,
    )
    def trigger(self, who: str, market: str, kind: str, trigger: int, buy: bool, size: int) -> None:
        stop = kind.startswith("stop_") and kind != "stop_loss"
        side = ("buy" if buy else "sell") if stop else ""
        price = trigger if kind == "stop_limit" else 0
        self.run(C.PlaceTrigger(self.ts, who, market, kind, trigger, side, price, size if stop else 0))

    @rule(market=markets)
    def trigger_tick(self, market: str) -> None:
        self.run(C.TriggerTick(self.ts, market))

    @rule(who=accounts)
    def cancel_all(self, who: str) -> None:
        self.run(C.CancelAll(self.ts, who))

    @rule(
        market=markets, price=st.one_of(prices, st.integers(1, 10_000)), dt=st.sampled_from([0, 1_000, 2_500, 11_000])
    )
    def oracle(self, market: str, price: int, dt: int) -> None:
        self.run(C.OraclePrice(self.tick(dt), market, price, SRC))

    @rule(market=markets, dt=st.sampled_from([0, 5_000, 10_000]))
    def funding(self, market: str, dt: int) -> None:
        self.run(C.FundingTick(self.tick(dt), market))

    @rule(market=markets)
    def halt(self, market: str) -> None:
        self.run(C.HaltMarket(self.ts, market, "test"))

    @rule(market=markets)
    def resume(self, market: str) -> None:
        self.run(C.ResumeMarket(self.ts, market))

    @rule(dt=st.sampled_from([0, 3_000]))
    def graduation(self, dt: int) -> None:
        self.run(C.GraduationTick(self.tick(dt)))

    @invariant()
    def sound(self) -> None:
        eng = self.eng
        totals = perp_totals(eng)
        for asset in set(totals) | set(self.totals):
            assert totals.get(asset, 0) == self.totals.get(asset, 0), f"conservation broken for {asset}"
        for aid, acct in eng.accounts.items():
            assert all(b.free >= 0 for b in acct.bal.values()), aid
            assert all(b.reserved == 0 for b in acct.bal.values()), "perp orders reserve nothing"
        for mid, pm in eng.perp.markets.items():
            longs = sum(p.size for p in pm.holders.values() if p.size > 0)
            shorts = -sum(p.size for p in pm.holders.values() if p.size < 0)
            assert longs == shorts == pm.long_oi
            assert all(p.margin >= 0 for p in pm.holders.values())
            assert all(p.margin == 0 for p in pm.holders.values() if p.mode == "cross")
            book = eng.markets[mid].book
            bb, ba = book.best_bid(), book.best_ask()
            assert bb is None or ba is None or bb < ba
            if eng.markets[mid].status == "halted":
                assert longs == 0 and not book.bids and not book.asks
        check_books(eng)  # and every resting order linked with its level and its account

    @rule()
    def restart(self) -> None:
        """The sequencer restarts: the engine restored from its snapshot (through JSON) carries on."""
        before = self.eng.state_hash()
        self.eng = Engine.restore(json.loads(json.dumps(self.eng.snapshot())), PARAMS)
        assert self.eng.state_hash() == before

    @invariant()
    def index_kept(self) -> None:
        eng, ts = self.eng, self.ts
        kept = eng.perp.margin_index(eng)  # after a restart, built from the state at first use
        fresh = MarginIndex(eng)
        assert kept.rows() == fresh.rows()
        units = kept.units()
        assert kept.liquidatable(eng, ts) == fresh.reprice(eng, units, ts)
        assert kept.health() == fresh.health()
        # one market at a time (a mark tick each), then all at once
        found = [kept.update_market(eng, mid, ts) for mid in MARKETS][-1]
        assert found == fresh.sweep(eng, ts) == eng.perp.under_maintenance(eng, ts)
        assert kept.health() == fresh.health()
        if found:
            event("index:liquidatable")

    def teardown(self) -> None:
        assert_no_engine_cycles()
        replay = Engine(PARAMS)
        for cmd in self.log:
            replay.apply(cmd)
        assert replay.state_hash() == self.eng.state_hash()
        restored = Engine.restore(json.loads(json.dumps(self.eng.snapshot())), PARAMS)
        assert restored.state_hash() == self.eng.state_hash()
        assert restored.perp.sweep(restored, self.ts) == self.eng.perp.under_maintenance(self.eng, self.ts)


PerpMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    print_blob=True,
)
TestPerpStateful = PerpMachine.TestCase


class PerpSoakMachine(PerpMachine):
    """The same machine, longer: `make soak` (``-m soak``) only."""


PerpSoakMachine.TestCase.settings = settings(
    max_examples=3_000,
    stateful_step_count=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestPerpSoak = pytest.mark.soak(PerpSoakMachine.TestCase)
