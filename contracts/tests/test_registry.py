"""MarketRegistry: every function, every revert reason."""

from __future__ import annotations

import boa
import pytest
from conftest import DAY, E18, FAR, MIN_BONDS, SRC, deployer_of, key_of
from eth_account import Account

from chain import eip712

CASE = b"\xca" * 32
SPEC = b"\x5e" * 32


# ---------------------------------------------------------------- deployment


def test_constructor_sets_committee_quorum_bonds_and_default_delays(system):
    r = system.registry
    assert r.member_count() == 3
    assert r.quorum() == 2
    assert [r.min_bond(k) for k in range(3)] == list(MIN_BONDS)
    assert r.unbonding_delay() == 7 * DAY
    assert r.slash_delay() == 2 * DAY
    assert r.core_token() == system.core.address
    fields = r.eip712Domain()
    assert fields[1] == eip712.REGISTRY_DOMAIN_NAME and fields[3] == system.chain_id


@pytest.mark.parametrize(
    "committee, quorum, reason",
    [
        (["alice"], 0, "registry: quorum must be between 1 and the committee size"),
        (["alice"], 2, "registry: quorum must be between 1 and the committee size"),
        (["alice", "alice"], 1, "registry: already a committee member"),
        (["zero"], 1, "registry: member is the zero address"),
    ],
)
def test_constructor_rejects_bad_committee(system, committee, quorum, reason):
    alice = boa.env.generate_address("ctor-alice")
    addrs = [alice if c == "alice" else "0x" + "00" * 20 for c in committee]
    with boa.reverts(reason):
        deployer_of(SRC / "MarketRegistry.vy").deploy(system.core.address, addrs, quorum, *MIN_BONDS)


def test_constructor_rejects_zero_core_token():
    with boa.reverts("registry: core token is the zero address"):
        deployer_of(SRC / "MarketRegistry.vy").deploy("0x" + "00" * 20, [boa.env.generate_address()], 1, *MIN_BONDS)


# ---------------------------------------------------------------- register / bonds


def test_register_market_pulls_bond_and_records_everything(system, alice):
    system.fund_core(alice, 2_000 * E18)
    with boa.env.prank(alice):
        market_id = system.registry.register_market(SPEC, 1, 1_500 * E18)
    logs = system.registry.get_logs()
    assert market_id == 1
    m = system.registry.markets(1)
    assert (m.deployer, m.kind, m.status, m.bond, m.spec_hash) == (alice, 1, 1, 1_500 * E18, SPEC)
    assert m.registered_at == boa.env.timestamp and m.withdrawable_at == 0
    assert system.core.balanceOf(system.registry.address) == 1_500 * E18
    assert system.registry.total_bonded() == 1_500 * E18
    assert logs[-1].__class__.__name__ == "MarketRegistered" and logs[-1].bond == 1_500 * E18


@pytest.mark.parametrize(
    "spec, kind, bond, reason",
    [
        (SPEC, 3, MIN_BONDS[0], "registry: unknown market kind"),
        (b"\x00" * 32, 0, MIN_BONDS[0], "registry: spec hash is empty"),
        (SPEC, 0, MIN_BONDS[0] - 1, "registry: bond is below the minimum for this kind"),
        (SPEC, 1, MIN_BONDS[0], "registry: bond is below the minimum for this kind"),
    ],
)
def test_register_market_rejects(system, alice, spec, kind, bond, reason):
    system.fund_core(alice, 10_000 * E18)
    with boa.env.prank(alice), boa.reverts(reason):
        system.registry.register_market(spec, kind, bond)


def test_register_with_zero_minimum_still_needs_a_bond(system, alice):
    # the committee sets the spot minimum to 0
    sigs = system.govern_sigs(eip712.ACTION_SET_MIN_BOND_SPOT, eip712.ZERO_ADDRESS, 0)
    system.registry.set_min_bond(0, 0, FAR, sigs)
    with boa.env.prank(alice), boa.reverts("registry: bond is below the minimum for this kind"):
        system.registry.register_market(SPEC, 0, 0)


def test_register_without_allowance_reverts(system, alice):
    with boa.env.prank(system.deployer):
        system.core.mint(alice, MIN_BONDS[0])
    with boa.env.prank(alice), boa.reverts():
        system.registry.register_market(SPEC, 0, MIN_BONDS[0])


def test_add_bond(system, alice, bob):
    mid = system.register(alice)
    system.fund_core(alice, 50 * E18)
    with boa.env.prank(alice):
        system.registry.add_bond(mid, 50 * E18)
    assert system.registry.get_logs()[-1].__class__.__name__ == "BondAdded"
    assert system.registry.markets(mid).bond == MIN_BONDS[0] + 50 * E18
    with boa.env.prank(bob), boa.reverts("registry: only the market's deployer can add bond"):
        system.registry.add_bond(mid, 1)
    with boa.env.prank(alice), boa.reverts("registry: amount is zero"):
        system.registry.add_bond(mid, 0)
    with boa.env.prank(alice), boa.reverts("registry: unknown market"):
        system.registry.add_bond(99, 1)


def test_add_bond_refused_after_unbond_request_and_after_withdrawal(system, alice):
    mid = system.register(alice)
    system.fund_core(alice, 10 * E18)
    with boa.env.prank(alice):
        system.registry.close_market(mid)
        system.registry.request_unbond(mid)
        with boa.reverts("registry: unbond already requested"):
            system.registry.add_bond(mid, 1)
    boa.env.time_travel(seconds=7 * DAY)
    with boa.env.prank(alice):
        system.registry.withdraw_bond(mid)
        with boa.reverts("registry: bond already withdrawn"):
            system.registry.add_bond(mid, 1)


def test_close_market(system, alice, bob):
    mid = system.register(alice)
    with boa.env.prank(bob), boa.reverts("registry: only the market's deployer can close it"):
        system.registry.close_market(mid)
    with boa.env.prank(alice):
        system.registry.close_market(mid)
        assert system.registry.markets(mid).status == 2
        with boa.reverts("registry: market is not active"):
            system.registry.close_market(mid)


def test_unbond_and_withdraw_happy_path(system, alice):
    mid = system.register(alice)
    with boa.env.prank(alice):
        with boa.reverts("registry: market must be closed or halted to unbond"):
            system.registry.request_unbond(mid)
        system.registry.close_market(mid)
        with boa.reverts("registry: unbond not requested"):
            system.registry.withdraw_bond(mid)
        system.registry.request_unbond(mid)
        assert system.registry.markets(mid).withdrawable_at == boa.env.timestamp + 7 * DAY
        with boa.reverts("registry: unbond already requested"):
            system.registry.request_unbond(mid)
    boa.env.time_travel(seconds=7 * DAY - 1)
    with boa.env.prank(alice), boa.reverts("registry: unbonding delay has not passed"):
        system.registry.withdraw_bond(mid)
    boa.env.time_travel(seconds=1)
    with boa.env.prank(alice):
        system.registry.withdraw_bond(mid)
    assert system.core.balanceOf(alice) == MIN_BONDS[0]
    assert system.registry.total_bonded() == 0
    m = system.registry.markets(mid)
    assert m.status == 4 and m.bond == 0
    with boa.env.prank(alice), boa.reverts("registry: bond already withdrawn"):
        system.registry.withdraw_bond(mid)


def test_unbond_and_withdraw_only_by_deployer(system, alice, bob):
    mid = system.register(alice)
    with boa.env.prank(alice):
        system.registry.close_market(mid)
    with boa.env.prank(bob), boa.reverts("registry: only the market's deployer can unbond"):
        system.registry.request_unbond(mid)
    with boa.env.prank(alice):
        system.registry.request_unbond(mid)
    boa.env.time_travel(seconds=8 * DAY)
    with boa.env.prank(bob), boa.reverts("registry: only the market's deployer can withdraw"):
        system.registry.withdraw_bond(mid)


def test_halted_market_can_unbond(system, alice):
    mid = system.register(alice)
    system.halt(mid)
    with boa.env.prank(alice):
        system.registry.request_unbond(mid)
    assert system.registry.markets(mid).status == 3


# ---------------------------------------------------------------- slashing


def test_propose_and_execute_slash_takes_fraction_of_bond_at_execution(system, alice, bob):
    mid = system.register(alice, kind=0, bond=200 * E18)
    system.propose(CASE, mid, 2_500, bob)
    log = system.registry.get_logs()[-1]
    assert log.__class__.__name__ == "SlashProposed"
    assert log.executable_at == boa.env.timestamp + 2 * DAY
    assert system.registry.pending_slash_count(mid) == 1
    # the bond grows before execution: the fraction applies to the bond at execution
    system.fund_core(alice, 200 * E18)
    with boa.env.prank(alice):
        system.registry.add_bond(mid, 200 * E18)
    boa.env.time_travel(seconds=2 * DAY - 1)
    with boa.reverts("registry: slash delay has not passed"):
        system.registry.execute_slash(CASE)
    boa.env.time_travel(seconds=1)
    amount = system.registry.execute_slash(CASE)
    log = system.registry.get_logs()[-1]
    assert amount == 100 * E18
    assert system.core.balanceOf(bob) == 100 * E18
    assert system.registry.markets(mid).bond == 300 * E18
    assert system.registry.total_bonded() == 300 * E18
    assert log.__class__.__name__ == "SlashExecuted" and log.amount == 100 * E18
    with boa.reverts("registry: slash is not pending"):
        system.registry.execute_slash(CASE)
    assert system.registry.slashes(CASE).status == 2


def test_execute_unknown_case_reverts(system):
    with boa.reverts("registry: slash is not pending"):
        system.registry.execute_slash(b"\x99" * 32)


def test_full_slash_leaves_zero_bond(system, alice, bob):
    mid = system.register(alice)
    system.propose(CASE, mid, 10_000, bob)
    boa.env.time_travel(seconds=2 * DAY)
    system.registry.execute_slash(CASE)
    assert system.registry.markets(mid).bond == 0
    assert system.core.balanceOf(system.registry.address) == 0


@pytest.mark.parametrize(
    "market, bps, recipient, reason",
    [
        (99, 100, "bob", "registry: unknown market"),
        (1, 0, "bob", "registry: fraction must be 1..10000 bps"),
        (1, 10_001, "bob", "registry: fraction must be 1..10000 bps"),
        (1, 100, "zero", "registry: recipient is the zero address"),
    ],
)
def test_propose_slash_rejects_bad_fields(system, alice, bob, market, bps, recipient, reason):
    system.register(alice)
    to = bob if recipient == "bob" else eip712.ZERO_ADDRESS
    with boa.reverts(reason):
        system.propose(CASE, market, bps, to)


def test_propose_slash_signature_checks(system, alice, bob):
    mid = system.register(alice)
    members = system.current_members()
    struct = eip712.SlashProposal(case_id=CASE, market_id=mid, fraction_bps=100, recipient=bob, deadline=FAR)
    one = system.sign_registry(struct, system.keys(members[:1]))
    with boa.reverts("registry: not enough signatures for the quorum"):
        system.registry.propose_slash(CASE, mid, 100, bob, FAR, one)
    two = system.sign_registry(struct, system.keys(members[:2]))
    with boa.reverts("registry: signers must be in strictly increasing address order"):
        system.registry.propose_slash(CASE, mid, 100, bob, FAR, list(reversed(two)))
    with boa.reverts("registry: signers must be in strictly increasing address order"):
        system.registry.propose_slash(CASE, mid, 100, bob, FAR, [two[0], two[0]])
    outsider = system.sign_registry(struct, [system.spare_keys[0], system.member_keys[members[0]]])
    with boa.reverts("registry: signer is not a committee member"):
        system.registry.propose_slash(CASE, mid, 100, bob, FAR, outsider)
    # signed over different fields: recovers some other address
    with boa.reverts():
        system.registry.propose_slash(CASE, mid, 101, bob, FAR, two)
    with boa.reverts("registry: signature must be 65 bytes"):
        system.registry.propose_slash(CASE, mid, 100, bob, FAR, [two[0][:64], two[1]])
    with boa.reverts("ecdsa: invalid signature"):
        system.registry.propose_slash(CASE, mid, 100, bob, FAR, [b"\x00" * 65, two[1]])


def test_high_s_signature_is_rejected(system, alice, bob):
    mid = system.register(alice)
    struct = eip712.SlashProposal(case_id=CASE, market_id=mid, fraction_bps=100, recipient=bob, deadline=FAR)
    sigs = system.sign_registry(struct, system.quorum_keys())
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    r, s, v = sigs[0][:32], int.from_bytes(sigs[0][32:64], "big"), sigs[0][64]
    flipped = r + (n - s).to_bytes(32, "big") + bytes([55 - v])  # same signer, malleable form
    with boa.reverts("ecdsa: invalid signature `s` value"):
        system.registry.propose_slash(CASE, mid, 100, bob, FAR, [flipped, sigs[1]])


def test_expired_signatures_rejected_everywhere(system, alice, bob):
    mid = system.register(alice)
    past = boa.env.timestamp - 1
    with boa.reverts("registry: signatures expired"):
        system.propose(CASE, mid, 100, bob, deadline=past)
    with boa.reverts("registry: signatures expired"):
        system.halt(mid, deadline=past)
    system.propose(CASE, mid, 100, bob)
    with boa.reverts("registry: signatures expired"):
        system.cancel(CASE, deadline=past)
    sigs = system.govern_sigs(eip712.ACTION_SET_QUORUM, eip712.ZERO_ADDRESS, 1, deadline=past)
    with boa.reverts("registry: signatures expired"):
        system.registry.set_quorum(1, past, sigs)


def test_case_id_is_usable_once_ever(system, alice, bob):
    mid = system.register(alice)
    system.propose(CASE, mid, 100, bob)
    with boa.reverts("registry: case already proposed"):
        system.propose(CASE, mid, 100, bob)
    boa.env.time_travel(seconds=2 * DAY)
    system.registry.execute_slash(CASE)
    with boa.reverts("registry: case already proposed"):
        system.propose(CASE, mid, 200, bob)


def test_cancel_slash(system, alice, bob):
    mid = system.register(alice)
    with boa.reverts("registry: slash is not pending"):
        system.cancel(CASE)
    system.propose(CASE, mid, 5_000, bob)
    system.cancel(CASE)
    assert system.registry.get_logs()[-1].__class__.__name__ == "SlashCancelled"
    assert system.registry.slashes(CASE).status == 3
    assert system.registry.pending_slash_count(mid) == 0
    boa.env.time_travel(seconds=3 * DAY)
    with boa.reverts("registry: slash is not pending"):
        system.registry.execute_slash(CASE)
    with boa.reverts("registry: slash is not pending"):
        system.cancel(CASE)
    with boa.reverts("registry: case already proposed"):
        system.propose(CASE, mid, 5_000, bob)


def test_cancel_after_execution_refused(system, alice, bob):
    mid = system.register(alice)
    system.propose(CASE, mid, 5_000, bob)
    boa.env.time_travel(seconds=2 * DAY)
    system.registry.execute_slash(CASE)
    with boa.reverts("registry: slash is not pending"):
        system.cancel(CASE)


def test_bond_cannot_leave_while_slash_pending_and_stays_slashable_while_unbonding(system, alice, bob):
    mid = system.register(alice)
    with boa.env.prank(alice):
        system.registry.close_market(mid)
        system.registry.request_unbond(mid)
    boa.env.time_travel(seconds=6 * DAY)
    system.propose(CASE, mid, 1_000, bob)
    boa.env.time_travel(seconds=1 * DAY)
    with boa.env.prank(alice), boa.reverts("registry: a slash against this market is pending"):
        system.registry.withdraw_bond(mid)
    boa.env.time_travel(seconds=1 * DAY)
    system.registry.execute_slash(CASE)
    with boa.env.prank(alice):
        system.registry.withdraw_bond(mid)
    assert system.core.balanceOf(alice) == MIN_BONDS[0] * 9 // 10
    with boa.reverts("registry: bond already withdrawn"):
        system.propose(b"\x02" * 32, mid, 1_000, bob)


def test_halt_market(system, alice):
    mid = system.register(alice)
    system.halt(mid, reason=b"\x33" * 32)
    log = system.registry.get_logs()[-1]
    assert log.__class__.__name__ == "MarketHalted" and log.reason_hash == b"\x33" * 32
    assert system.registry.markets(mid).status == 3
    with boa.reverts("registry: market is already halted or withdrawn"):
        system.halt(mid, reason=b"\x33" * 32)
    with boa.env.prank(alice), boa.reverts("registry: market is not active"):
        system.registry.close_market(mid)
    with boa.reverts("registry: unknown market"):
        system.halt(42)


def test_closed_market_can_be_halted(system, alice):
    mid = system.register(alice)
    with boa.env.prank(alice):
        system.registry.close_market(mid)
    system.halt(mid)
    assert system.registry.markets(mid).status == 3


def test_halt_needs_quorum(system, alice):
    mid = system.register(alice)
    with boa.reverts("registry: not enough signatures for the quorum"):
        system.halt(mid, keys=system.quorum_keys(1))


# ---------------------------------------------------------------- governance


def test_add_and_remove_member(system):
    new_key = system.spare_keys[0]
    new = Account.from_key(new_key).address
    sigs = system.govern_sigs(eip712.ACTION_ADD_MEMBER, new, 0)
    system.registry.add_member(new, FAR, sigs)
    assert system.registry.is_member(new) and system.registry.member_count() == 4
    assert system.registry.governance_nonce() == 1
    # the same signatures are spent: the nonce moved on
    with boa.reverts():
        system.registry.add_member(new, FAR, sigs)
    with boa.reverts("registry: already a committee member"):
        system.registry.add_member(new, FAR, system.govern_sigs(eip712.ACTION_ADD_MEMBER, new, 0))
    victim = system.current_members()[0]
    victim_key = system.member_keys[victim]
    system.registry.remove_member(victim, FAR, system.govern_sigs(eip712.ACTION_REMOVE_MEMBER, victim, 0))
    assert not system.registry.is_member(victim) and system.registry.member_count() == 3
    assert victim not in system.current_members()
    # a removed member's signature no longer counts
    others = system.current_members()
    sigs = system.sign_registry(
        eip712.GovernanceAction(action=3, account=eip712.ZERO_ADDRESS, value=1, nonce=3, deadline=FAR),
        [victim_key, system.member_keys[others[0]]],
    )
    with boa.reverts("registry: signer is not a committee member"):
        system.registry.set_quorum(1, FAR, sigs)
    with boa.reverts("registry: not a committee member"):
        system.registry.remove_member(victim, FAR, system.govern_sigs(eip712.ACTION_REMOVE_MEMBER, victim, 0))


def test_add_member_rejects_zero_and_full_committee(system):
    with boa.reverts("registry: member is the zero address"):
        system.registry.add_member(
            eip712.ZERO_ADDRESS, FAR, system.govern_sigs(eip712.ACTION_ADD_MEMBER, eip712.ZERO_ADDRESS, 0)
        )
    for i in range(29):
        addr = Account.from_key(key_of(f"filler{i}")).address
        system.registry.add_member(addr, FAR, system.govern_sigs(eip712.ACTION_ADD_MEMBER, addr, 0))
    assert system.registry.member_count() == 32
    extra = Account.from_key(key_of("one too many")).address
    with boa.reverts("registry: committee is full"):
        system.registry.add_member(extra, FAR, system.govern_sigs(eip712.ACTION_ADD_MEMBER, extra, 0))


def test_remove_member_keeps_quorum_reachable(system):
    system.registry.set_quorum(3, FAR, system.govern_sigs(eip712.ACTION_SET_QUORUM, eip712.ZERO_ADDRESS, 3))
    victim = system.current_members()[0]
    with boa.reverts("registry: removal would leave fewer members than the quorum"):
        system.registry.remove_member(victim, FAR, system.govern_sigs(eip712.ACTION_REMOVE_MEMBER, victim, 0))


def test_set_quorum(system):
    with boa.reverts("registry: quorum must be between 1 and the committee size"):
        system.registry.set_quorum(4, FAR, system.govern_sigs(eip712.ACTION_SET_QUORUM, eip712.ZERO_ADDRESS, 4))
    with boa.reverts("registry: quorum must be between 1 and the committee size"):
        system.registry.set_quorum(0, FAR, system.govern_sigs(eip712.ACTION_SET_QUORUM, eip712.ZERO_ADDRESS, 0))
    system.registry.set_quorum(3, FAR, system.govern_sigs(eip712.ACTION_SET_QUORUM, eip712.ZERO_ADDRESS, 3))
    assert system.registry.quorum() == 3


def test_set_delays(system):
    z = eip712.ZERO_ADDRESS
    r = system.registry
    with boa.reverts("registry: delay is too short"):
        r.set_slash_delay(3_599, FAR, system.govern_sigs(eip712.ACTION_SET_SLASH_DELAY, z, 3_599))
    with boa.reverts("registry: slash delay must not exceed the unbonding delay"):
        r.set_slash_delay(8 * DAY, FAR, system.govern_sigs(eip712.ACTION_SET_SLASH_DELAY, z, 8 * DAY))
    r.set_slash_delay(DAY, FAR, system.govern_sigs(eip712.ACTION_SET_SLASH_DELAY, z, DAY))
    assert r.slash_delay() == DAY
    with boa.reverts("registry: unbonding delay must be at least the slash delay"):
        r.set_unbonding_delay(DAY - 1, FAR, system.govern_sigs(eip712.ACTION_SET_UNBONDING_DELAY, z, DAY - 1))
    with boa.reverts("registry: delay is too long"):
        r.set_unbonding_delay(366 * DAY, FAR, system.govern_sigs(eip712.ACTION_SET_UNBONDING_DELAY, z, 366 * DAY))
    r.set_unbonding_delay(3 * DAY, FAR, system.govern_sigs(eip712.ACTION_SET_UNBONDING_DELAY, z, 3 * DAY))
    assert r.unbonding_delay() == 3 * DAY


def test_set_min_bond(system):
    z = eip712.ZERO_ADDRESS
    for kind in range(3):
        action = eip712.ACTION_SET_MIN_BOND_SPOT + kind
        system.registry.set_min_bond(kind, 7 * E18 + kind, FAR, system.govern_sigs(action, z, 7 * E18 + kind))
        assert system.registry.min_bond(kind) == 7 * E18 + kind
    # a spot signature cannot set the perpetual minimum
    sigs = system.govern_sigs(eip712.ACTION_SET_MIN_BOND_SPOT, z, 1)
    with boa.reverts():
        system.registry.set_min_bond(1, 1, FAR, sigs)
    with boa.reverts("registry: unknown market kind"):
        system.registry.set_min_bond(3, 1, FAR, sigs)


def test_governance_signature_bound_to_action(system):
    # signatures for quorum=1 do not set the slash delay to 1
    sigs = system.govern_sigs(eip712.ACTION_SET_QUORUM, eip712.ZERO_ADDRESS, 1)
    with boa.reverts():
        system.registry.set_slash_delay(1, FAR, sigs)


def test_verify_quorum_view(system):
    digest = b"\x42" * 32
    members = system.current_members()
    sigs = []
    for k in system.keys(members[:2]):
        signed = Account.unsafe_sign_hash(digest, k)
        sigs.append(signed.r.to_bytes(32, "big") + signed.s.to_bytes(32, "big") + bytes([signed.v]))
    assert system.registry.verify_quorum(digest, sigs)
    with boa.reverts("registry: not enough signatures for the quorum"):
        system.registry.verify_quorum(digest, sigs[:1])
