"""Stateful property test: random sequences over registry and vault, checked against a model.

Each rule predicts from the model whether the call must succeed or revert, makes it, and updates
the model; the invariants then compare contract state with the model after every step.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass

import boa
import pytest
from conftest import DAY, E6, E18, FAR, MIN_BONDS, MOCKS, deploy_system, deployer_of
from eth_account import Account
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from chain import eip712

ACTIVE, CLOSED, HALTED, WITHDRAWN = 1, 2, 3, 4
PENDING, EXECUTED, CANCELLED = 1, 2, 3
N_CASES = 6  # a small pool of case ids, so re-proposals happen often

_SHARED: dict[str, object] = {}


@pytest.fixture(scope="module")
def stateful_world():
    """Deployed once, in a fixture: titanoboa's pytest plugin anchors fixtures, each test and
    each hypothesis example, so every example starts from this state and is rolled back after."""
    system = deploy_system()
    fee = deployer_of(MOCKS / "FeeToken.vy").deploy()
    sigs = system.govern_sigs(eip712.ACTION_ALLOW_TOKEN, fee.address, 0, vault=True)
    system.vault.set_token_allowed(fee.address, True, FAR, sigs)
    _SHARED["system"], _SHARED["fee"] = system, fee
    _SHARED["deployers"] = [boa.env.generate_address(f"sm-deployer{i}") for i in range(3)]
    _SHARED["traders"] = [boa.env.generate_address(f"sm-trader{i}") for i in range(3)]
    yield _SHARED
    _SHARED.clear()


@dataclass
class MarketModel:
    deployer: str
    bond: int
    status: int = ACTIVE
    withdrawable_at: int = 0


@dataclass
class SlashModel:
    market_id: int
    bps: int
    recipient: str
    executable_at: int
    status: int = PENDING


TALLY: Counter[str] = Counter()


def expect(ok: bool, call) -> bool:
    """Make the call; it must succeed if `ok`, else revert. Tallied for the summary the test prints."""
    TALLY[f"{sys._getframe(1).f_code.co_name}: {'succeeds' if ok else 'reverts'}"] += 1
    if ok:
        call()
    else:
        with boa.reverts():
            call()
    return ok


class ExchangeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        shared = _SHARED
        self.s = shared["system"]
        self.fee = shared["fee"]
        self.deployers = shared["deployers"]
        self.traders = shared["traders"]
        self.tokens = [self.s.collateral, self.s.core, self.fee]
        self.markets: dict[int, MarketModel] = {}
        self.slashes: dict[bytes, SlashModel] = {}
        self.deposited = [0, 0, 0]
        self.withdrawn = [0, 0, 0]
        self.next_nonce = 1
        self.replays: list[tuple[str, object]] = []  # (label, call) of calls that succeeded once
        self.members = list(self.s.current_members())
        self.removed: list[str] = []
        self.spares = [Account.from_key(k).address for k in self.s.spare_keys]
        self.quorum = 2
        TALLY["examples"] += 1

    # ------------------------------------------------------------ helpers
    @property
    def now(self) -> int:
        return boa.env.timestamp

    def quorum_keys(self) -> list[bytes]:
        return self.s.keys(self.members[: self.quorum])

    def market_id(self, i: int) -> int:
        # mostly existing markets, sometimes one that does not exist
        return (i % (len(self.markets) + 1)) + 1

    def market_where(self, i: int, wanted) -> int:
        """Mostly a market in the state a rule needs (so multi-step paths get walked), else any."""
        fitting = [mid for mid, m in self.markets.items() if wanted(m)]
        if fitting and i % 4:
            return fitting[i % len(fitting)]
        return self.market_id(i)

    @initialize()
    def seed(self):
        """Start every run with two markets and some collateral in the vault, so steps bite."""
        self.register(0, 0, 0, False)
        self.register(1, 1, 0, False)
        for who in range(3):
            self.deposit(who, 0, 1_000)

    # ------------------------------------------------------------ registry rules
    @rule(who=st.integers(0, 2), kind=st.integers(0, 2), extra=st.integers(0, 1_000), short=st.booleans())
    def register(self, who, kind, extra, short):
        deployer = self.deployers[who]
        bond = MIN_BONDS[kind] - 1 if short else MIN_BONDS[kind] + extra * E18
        self.s.fund_core(deployer, bond)
        with boa.env.prank(deployer):
            if expect(not short, lambda: self.s.registry.register_market(b"\x01" * 32, kind, bond)):
                self.markets[len(self.markets) + 1] = MarketModel(deployer, bond)

    @rule(i=st.integers(0, 20), amount=st.integers(1, 500), stranger=st.integers(0, 3))
    def add_bond(self, i, amount, stranger):
        by_owner = stranger != 0
        mid = self.market_id(i)
        m = self.markets.get(mid)
        caller = m.deployer if (m and by_owner) else self.traders[0]
        amount *= E18
        self.s.fund_core(caller, amount)
        ok = m is not None and by_owner and m.status != WITHDRAWN and m.withdrawable_at == 0
        with boa.env.prank(caller):
            if expect(ok, lambda: self.s.registry.add_bond(mid, amount)):
                m.bond += amount

    @rule(i=st.integers(0, 20))
    def close(self, i):
        mid = self.market_id(i)
        m = self.markets.get(mid)
        caller = m.deployer if m else self.traders[0]
        with boa.env.prank(caller):
            if expect(m is not None and m.status == ACTIVE, lambda: self.s.registry.close_market(mid)):
                m.status = CLOSED

    @rule(i=st.integers(0, 20))
    def request_unbond(self, i):
        mid = self.market_where(i, lambda m: m.status in (CLOSED, HALTED) and m.withdrawable_at == 0)
        m = self.markets.get(mid)
        caller = m.deployer if m else self.traders[0]
        ok = m is not None and m.status in (CLOSED, HALTED) and m.withdrawable_at == 0
        with boa.env.prank(caller):
            if expect(ok, lambda: self.s.registry.request_unbond(mid)):
                m.withdrawable_at = self.now + self.s.registry.unbonding_delay()

    @rule(i=st.integers(0, 20))
    def withdraw_bond(self, i):
        mid = self.market_where(i, lambda m: m.withdrawable_at != 0 and m.status != WITHDRAWN)
        m = self.markets.get(mid)
        caller = m.deployer if m else self.traders[0]
        pending = any(sl.market_id == mid and sl.status == PENDING for sl in self.slashes.values())
        ok = (
            m is not None
            and m.status != WITHDRAWN
            and m.withdrawable_at != 0
            and self.now >= m.withdrawable_at
            and not pending
        )
        if m is not None and m.withdrawable_at and not ok:
            TALLY["withdraw_bond: blocked by " + ("pending slash" if pending else "delay or state")] += 1
        before = self.s.core.balanceOf(caller)
        with boa.env.prank(caller):
            if expect(ok, lambda: self.s.registry.withdraw_bond(mid)):
                assert self.s.core.balanceOf(caller) - before == m.bond
                m.bond, m.status = 0, WITHDRAWN

    @rule(case=st.integers(0, 3 * N_CASES), i=st.integers(0, 20), bps=st.integers(0, 10_001), to=st.integers(0, 2))
    def propose_slash(self, case, i, bps, to):
        # mostly the next unused case id; otherwise one from the pool, which may be taken
        fresh = (N_CASES + len(self.slashes)).to_bytes(32, "big")
        case_id = (case % N_CASES).to_bytes(32, "big") if case < N_CASES else fresh
        mid = self.market_where(i, lambda m: m.status != WITHDRAWN)
        m = self.markets.get(mid)
        recipient = self.traders[to]
        ok = case_id not in self.slashes and m is not None and m.status != WITHDRAWN and 1 <= bps <= 10_000
        struct = eip712.SlashProposal(
            case_id=case_id, market_id=mid, fraction_bps=bps, recipient=recipient, deadline=FAR
        )
        sigs = self.s.sign_registry(struct, self.quorum_keys())

        def call():
            self.s.registry.propose_slash(case_id, mid, bps, recipient, FAR, sigs)

        if expect(ok, call):
            self.slashes[case_id] = SlashModel(mid, bps, recipient, self.now + self.s.registry.slash_delay())
            self.replays.append(("propose", call))

    def known_case(self, case: int) -> bytes:
        """Mostly a pending case, sometimes any id from the pool (unknown, executed or cancelled)."""
        pending = sorted(c for c, sl in self.slashes.items() if sl.status == PENDING)
        if pending and case % 4:
            return pending[case % len(pending)]
        return (case % N_CASES).to_bytes(32, "big")

    @rule(case=st.integers(0, 100))
    def execute_slash(self, case):
        case_id = self.known_case(case)
        sl = self.slashes.get(case_id)
        ok = sl is not None and sl.status == PENDING and self.now >= sl.executable_at
        if expect(ok, lambda: self.s.registry.execute_slash(case_id)):
            m = self.markets[sl.market_id]
            amount = m.bond * sl.bps // 10_000
            assert self.s.registry.get_logs()[-1].amount == amount
            m.bond -= amount
            sl.status = EXECUTED

    @rule(case=st.integers(0, 100))
    def cancel_slash(self, case):
        case_id = self.known_case(case)
        sl = self.slashes.get(case_id)
        sigs = self.s.sign_registry(eip712.SlashCancel(case_id=case_id, deadline=FAR), self.quorum_keys())

        def call():
            self.s.registry.cancel_slash(case_id, FAR, sigs)

        if expect(sl is not None and sl.status == PENDING, call):
            sl.status = CANCELLED
            self.replays.append(("cancel", call))

    @rule(i=st.integers(0, 20))
    def halt(self, i):
        mid = self.market_id(i)
        m = self.markets.get(mid)
        struct = eip712.HaltMarket(market_id=mid, reason_hash=b"\x09" * 32, deadline=FAR)
        sigs = self.s.sign_registry(struct, self.quorum_keys())

        def call():
            self.s.registry.halt_market(mid, b"\x09" * 32, FAR, sigs)

        if expect(m is not None and m.status in (ACTIVE, CLOSED), call):
            m.status = HALTED
            self.replays.append(("halt", call))

    @rule(seconds=st.sampled_from([0, 1, 3_600, DAY, 2 * DAY - 1, 2 * DAY]))
    def clock(self, seconds):
        """Small moves around the slash delay's edge."""
        TALLY["clock: moves"] += 1
        boa.env.time_travel(seconds=seconds)

    @rule(seconds=st.sampled_from([2 * DAY, 7 * DAY - 1, 7 * DAY, 8 * DAY]))
    def clock_long(self, seconds):
        """Moves around the unbonding delay's edge (a second rule, so time passes often enough)."""
        TALLY["clock: moves"] += 1
        boa.env.time_travel(seconds=seconds)

    # ------------------------------------------------------------ committee
    @precondition(lambda self: self.spares)
    @rule()
    def add_member(self):
        new = self.spares.pop()
        sigs = self.s.govern_sigs(eip712.ACTION_ADD_MEMBER, new, 0, keys=self.quorum_keys())

        def call():
            self.s.registry.add_member(new, FAR, sigs)

        call()
        self.members.append(new)
        self.replays.append(("add_member", call))

    @rule(i=st.integers(0, 10))
    def remove_member(self, i):
        victim = self.members[i % len(self.members)]
        sigs = self.s.govern_sigs(eip712.ACTION_REMOVE_MEMBER, victim, 0, keys=self.quorum_keys())

        def call():
            self.s.registry.remove_member(victim, FAR, sigs)

        if expect(len(self.members) > self.quorum, call):
            self.members.remove(victim)
            self.removed.append(victim)
            self.replays.append(("remove_member", call))

    @rule(q=st.integers(0, 4))
    def set_quorum(self, q):
        sigs = self.s.govern_sigs(eip712.ACTION_SET_QUORUM, eip712.ZERO_ADDRESS, q, keys=self.quorum_keys())

        def call():
            self.s.registry.set_quorum(q, FAR, sigs)

        if expect(1 <= q <= len(self.members), call):
            self.quorum = q
            self.replays.append(("set_quorum", call))

    # ------------------------------------------------------------ vault
    @rule(who=st.integers(0, 2), t=st.integers(0, 2), amount=st.integers(0, 10_000))
    def deposit(self, who, t, amount):
        trader, token = self.traders[who], self.tokens[t]
        amount *= E6
        with boa.env.prank(self.s.deployer):
            token.mint(trader, amount)
        with boa.env.prank(trader):
            token.approve(self.s.vault.address, amount)
            if expect(amount > 0, lambda: self.s.vault.deposit(token.address, amount)):
                self.deposited[t] += amount - (amount // 100 if token is self.fee else 0)

    @rule(who=st.integers(0, 2), t=st.integers(0, 5), part=st.integers(1, 100), presenter=st.integers(0, 3))
    def withdraw(self, who, t, part, presenter):
        t = t if t < 3 else 0  # mostly the collateral token
        thief = presenter == 0
        trader, token = self.traders[who], self.tokens[t]
        held = self.deposited[t] - self.withdrawn[t]
        amount = max(1, held * part // 100)
        nonce = self.next_nonce
        self.next_nonce += 1
        expiry = self.now + 600
        sig = self.s.sign_withdrawal(trader, token.address, amount, nonce, expiry)
        caller = self.traders[(who + 1) % 3] if thief else trader

        def call():
            with boa.env.prank(caller):
                self.s.vault.withdraw(token.address, amount, nonce, expiry, sig)

        # the authorisation is the trader's: someone else presenting it gets nothing
        if expect(not thief and amount <= held, call):
            self.withdrawn[t] += amount
            self.replays.append(("withdraw", call))

    # ------------------------------------------------------------ attacks
    @precondition(lambda self: self.replays)
    @rule(i=st.integers(0, 1_000))
    def replay(self, i):
        """No signature is usable twice."""
        label, call = self.replays[i % len(self.replays)]
        TALLY[f"replay of {label}: reverts"] += 1
        with boa.reverts():
            call()

    @precondition(lambda self: self.removed and self.markets)
    @rule(i=st.integers(0, 10))
    def removed_member_signs(self, i):
        """A removed member's signature does not count toward the quorum."""
        TALLY["removed member signs: reverts"] += 1
        keys = [self.s.member_keys[self.removed[i % len(self.removed)]]] + self.s.keys(self.members[: self.quorum - 1])
        mid = 1
        struct = eip712.HaltMarket(market_id=mid, reason_hash=b"\x0a" * 32, deadline=FAR)
        sigs = self.s.sign_registry(struct, keys)
        with boa.reverts():
            self.s.registry.halt_market(mid, b"\x0a" * 32, FAR, sigs)

    @precondition(lambda self: self.markets)
    @rule(wrong_chain=st.booleans())
    def foreign_domain_signature(self, wrong_chain):
        """Quorum signatures for another chain id or another contract are refused."""
        TALLY[f"signed for another {'chain id' if wrong_chain else 'contract'}: reverts"] += 1
        case_id = (1_000 + len(self.slashes)).to_bytes(32, "big")
        struct = eip712.SlashProposal(
            case_id=case_id, market_id=1, fraction_bps=1, recipient=self.traders[0], deadline=FAR
        )
        if wrong_chain:
            sigs = self.s.sign_registry(struct, self.quorum_keys(), chain_id=self.s.chain_id + 1)
        else:
            sigs = self.s.sign_registry(struct, self.quorum_keys(), contract=self.s.vault.address)
        with boa.reverts():
            self.s.registry.propose_slash(case_id, 1, 1, self.traders[0], FAR, sigs)

    # ------------------------------------------------------------ invariants
    # Token balances are read with real calls; the registry's and vault's own bookkeeping is read
    # from storage directly (titanoboa's introspection), which is ~80x faster than a call and
    # keeps 200 x 50 steps within the CI budget.
    @invariant()
    def vault_balance_is_deposits_minus_withdrawals(self):
        TALLY["invariant checks"] += 1
        deposited = self.s.vault._storage.total_deposited.get()
        withdrawn = self.s.vault._storage.total_withdrawn.get()
        for t, token in enumerate(self.tokens):
            held = token.balanceOf(self.s.vault.address)
            assert held == self.deposited[t] - self.withdrawn[t]
            assert held == deposited.get(token.address, 0) - withdrawn.get(token.address, 0)

    @invariant()
    def registry_holds_exactly_the_live_and_unbonding_bonds(self):
        live = sum(m.bond for m in self.markets.values() if m.status != WITHDRAWN)
        onchain = self.s.registry._storage.total_bonded.get()
        assert self.s.core.balanceOf(self.s.registry.address) == live == onchain

    @invariant()
    def contract_matches_model(self):
        st_ = self.s.registry._storage
        assert st_.market_count.get() == len(self.markets)
        markets = st_.markets.get()
        for mid, m in self.markets.items():
            onchain = markets[mid]
            assert (onchain["bond"], onchain["status"], onchain["withdrawable_at"]) == (
                m.bond,
                m.status,
                m.withdrawable_at,
            )
        slashes = st_.slashes.get()
        for case_id, sl in self.slashes.items():
            onchain = slashes[case_id]
            assert (onchain["status"], onchain["executable_at"]) == (sl.status, sl.executable_at)
        pending_counts = st_.pending_slash_count.get()
        for mid in self.markets:
            pending = sum(1 for sl in self.slashes.values() if sl.market_id == mid and sl.status == PENDING)
            assert pending_counts.get(mid, 0) == pending
        assert st_.members.get() == self.members
        assert st_.quorum.get() == self.quorum


def test_exchange_state_machine(stateful_world, capsys):
    # the profile loaded in conftest: "dev" locally, "ci" (200 examples x 50 steps) from contracts/test.sh
    TALLY.clear()
    current = settings()
    run_state_machine_as_test(ExchangeMachine, settings=current)
    with capsys.disabled():
        print(
            f"\nstateful: {TALLY['examples']} state machines run (max_examples={current.max_examples}, "
            f"up to {current.stateful_step_count} steps), {TALLY['invariant checks']} invariant checks"
        )
        for key in sorted(k for k in TALLY if ":" in k):
            print(f"  {key:<40} {TALLY[key]}")
