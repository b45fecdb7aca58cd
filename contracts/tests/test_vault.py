"""Vault: deposits, operator-authorised withdrawals, governance; every revert reason."""

from __future__ import annotations

import boa
import pytest
from conftest import E6, FAR, MOCKS, SRC, deployer_of, key_of
from eth_account import Account

from chain import eip712

ZERO = eip712.ZERO_ADDRESS


def test_constructor(system):
    v = system.vault
    assert v.operator() == system.operator
    assert v.committee() == system.registry.address
    assert v.is_token_allowed(system.collateral.address) and v.is_token_allowed(system.core.address)
    assert v.eip712Domain()[1] == eip712.VAULT_DOMAIN_NAME


@pytest.mark.parametrize(
    "committee, operator, tokens, reason",
    [
        ("zero", "op", [], "vault: committee is the zero address"),
        ("reg", "zero", [], "vault: operator is the zero address"),
        ("reg", "op", ["zero"], "vault: token is the zero address"),
    ],
)
def test_constructor_rejects(system, committee, operator, tokens, reason):
    pick = {"zero": ZERO, "reg": system.registry.address, "op": system.operator}
    with boa.reverts(reason):
        deployer_of(SRC / "Vault.vy").deploy(pick[committee], pick[operator], [pick[t] for t in tokens])


def test_deposit_credits_and_logs(system, alice):
    system.fund_collateral(alice, 500 * E6)
    with boa.env.prank(alice):
        first = system.vault.deposit(system.collateral.address, 200 * E6)
        log = system.vault.get_logs()[-1]
        second = system.vault.deposit(system.collateral.address, 300 * E6)
    assert (first, second) == (1, 2)
    assert type(log).__name__ == "Deposit"
    assert (log.account, log.token, log.amount, log.deposit_id) == (alice, system.collateral.address, 200 * E6, 1)
    assert system.collateral.balanceOf(system.vault.address) == 500 * E6
    assert system.vault.total_deposited(system.collateral.address) == 500 * E6


def test_deposit_rejects(system, alice):
    stranger = deployer_of(SRC / "CoreToken.vy").deploy()
    with boa.env.prank(alice):
        with boa.reverts("vault: token is not allowed"):
            system.vault.deposit(stranger.address, 1)
        with boa.reverts("vault: amount is zero"):
            system.vault.deposit(system.collateral.address, 0)
        with boa.reverts():  # no allowance / balance: the token refuses
            system.vault.deposit(system.collateral.address, 1)


def _allow(system, token: str) -> None:
    sigs = system.govern_sigs(eip712.ACTION_ALLOW_TOKEN, token, 0, vault=True)
    system.vault.set_token_allowed(token, True, FAR, sigs)


def test_fee_on_transfer_token_credits_only_what_arrived(system, alice):
    fee = deployer_of(MOCKS / "FeeToken.vy").deploy()
    _allow(system, fee.address)
    fee.mint(alice, 1_000)
    with boa.env.prank(alice):
        fee.approve(system.vault.address, 1_000)
        system.vault.deposit(fee.address, 1_000)
        log = system.vault.get_logs()[-1]
    assert log.amount == 990
    assert system.vault.total_deposited(fee.address) == 990 == fee.balanceOf(system.vault.address)


def test_withdraw_pays_the_authorised_account_once(system, alice, bob):
    token = system.collateral.address
    system.fund_collateral(alice, 100 * E6)
    with boa.env.prank(alice):
        system.vault.deposit(token, 100 * E6)
    expiry = boa.env.timestamp + 600
    sig = system.sign_withdrawal(alice, token, 40 * E6, 7, expiry)
    # someone else presenting alice's authorisation gets nothing
    with boa.env.prank(bob), boa.reverts("vault: not authorised by the operator"):
        system.vault.withdraw(token, 40 * E6, 7, expiry, sig)
    with boa.env.prank(alice):
        system.vault.withdraw(token, 40 * E6, 7, expiry, sig)
        log = system.vault.get_logs()[-1]
        assert (type(log).__name__, log.account, log.amount, log.nonce) == ("Withdrawal", alice, 40 * E6, 7)
        with boa.reverts("vault: nonce already used"):
            system.vault.withdraw(token, 40 * E6, 7, expiry, sig)
    assert system.collateral.balanceOf(alice) == 40 * E6
    assert system.vault.nonce_used(alice, 7)
    assert system.vault.total_withdrawn(token) == 40 * E6


def test_withdraw_rejects(system, alice):
    token = system.collateral.address
    system.fund_collateral(alice, 100 * E6)
    with boa.env.prank(alice):
        system.vault.deposit(token, 100 * E6)
    now = boa.env.timestamp
    good = system.sign_withdrawal(alice, token, 10, 1, now + 60)
    cases = [
        ((token, 10, 1, now - 1, system.sign_withdrawal(alice, token, 10, 1, now - 1)), "vault: authorization expired"),
        ((token, 0, 1, now + 60, system.sign_withdrawal(alice, token, 0, 1, now + 60)), "vault: amount is zero"),
        ((token, 10, 1, now + 60, good[:64]), "vault: signature must be 65 bytes"),
        ((token, 11, 1, now + 60, good), "vault: not authorised by the operator"),
        ((system.core.address, 10, 1, now + 60, good), "vault: not authorised by the operator"),
        ((token, 10, 2, now + 60, good), "vault: not authorised by the operator"),
        (
            (token, 10, 1, now + 60, system.sign_withdrawal(alice, token, 10, 1, now + 60, key=key_of("mallory"))),
            "vault: not authorised by the operator",
        ),
        (
            (token, 10, 1, now + 60, system.sign_withdrawal(alice, token, 10, 1, now + 60, chain_id=5)),
            "vault: not authorised by the operator",
        ),
        (
            (
                token,
                10,
                1,
                now + 60,
                system.sign_withdrawal(alice, token, 10, 1, now + 60, contract=system.registry.address),
            ),
            "vault: not authorised by the operator",
        ),
        ((token, 10, 1, now + 60, b"\x00" * 65), "ecdsa: invalid signature"),
    ]
    for args, reason in cases:
        with boa.env.prank(alice), boa.reverts(reason):
            system.vault.withdraw(*args)
    with boa.env.prank(alice):
        system.vault.withdraw(token, 10, 1, now + 60, good)


def test_withdraw_more_than_held_reverts(system, alice):
    sig = system.sign_withdrawal(alice, system.collateral.address, 5, 1, FAR)
    with boa.env.prank(alice), boa.reverts():
        system.vault.withdraw(system.collateral.address, 5, 1, FAR, sig)


def test_withdraw_is_reentrancy_guarded(system, alice):
    evil = deployer_of(MOCKS / "ReentrantToken.vy").deploy()
    _allow(system, evil.address)
    evil.mint(alice, 100)
    with boa.env.prank(alice):
        evil.approve(system.vault.address, 100)
        system.vault.deposit(evil.address, 100)
    # the token re-enters withdraw during the payout, with a valid authorisation for itself
    inner = system.sign_withdrawal(evil.address, evil.address, 1, 2, FAR)
    evil.arm(system.vault.address, 2, FAR, inner)
    outer = system.sign_withdrawal(alice, evil.address, 10, 1, FAR)
    with boa.env.prank(alice), boa.reverts():
        system.vault.withdraw(evil.address, 10, 1, FAR, outer)
    assert not system.vault.nonce_used(evil.address, 2) and not system.vault.nonce_used(alice, 1)
    # control: the same inner authorisation works when not re-entered, so the lock refused it
    evil.disarm()
    with boa.env.prank(evil.address):
        system.vault.withdraw(evil.address, 1, 2, FAR, inner)


def test_deposit_is_reentrancy_guarded(system, alice):
    evil = deployer_of(MOCKS / "ReentrantToken.vy").deploy()
    _allow(system, evil.address)
    evil.mint(alice, 100)
    evil.arm(system.vault.address, 2, FAR, system.sign_withdrawal(evil.address, evil.address, 1, 2, FAR))
    with boa.env.prank(alice):
        evil.approve(system.vault.address, 100)
        with boa.reverts():
            system.vault.deposit(evil.address, 100)


def test_disallowed_token_can_still_be_withdrawn(system, alice):
    token = system.collateral.address
    system.fund_collateral(alice, 10)
    with boa.env.prank(alice):
        system.vault.deposit(token, 10)
    sigs = system.govern_sigs(eip712.ACTION_DISALLOW_TOKEN, token, 0, vault=True)
    system.vault.set_token_allowed(token, False, FAR, sigs)
    assert not system.vault.is_token_allowed(token)
    with boa.env.prank(alice):
        with boa.reverts("vault: token is not allowed"):
            system.vault.deposit(token, 1)
        system.vault.withdraw(token, 10, 1, FAR, system.sign_withdrawal(alice, token, 10, 1, FAR))
    assert system.collateral.balanceOf(alice) == 10


def test_operator_rotation_by_quorum(system, alice):
    new_key = key_of("operator2")
    new = Account.from_key(new_key).address
    sigs = system.govern_sigs(eip712.ACTION_SET_OPERATOR, new, 0, vault=True)
    system.vault.set_operator(new, FAR, sigs)
    assert system.vault.operator() == new and system.vault.governance_nonce() == 1
    with boa.reverts():  # spent: the nonce moved on
        system.vault.set_operator(new, FAR, sigs)
    token = system.collateral.address
    system.fund_collateral(alice, 10)
    with boa.env.prank(alice):
        system.vault.deposit(token, 10)
        with boa.reverts("vault: not authorised by the operator"):
            system.vault.withdraw(token, 10, 1, FAR, system.sign_withdrawal(alice, token, 10, 1, FAR))
        system.vault.withdraw(token, 10, 1, FAR, system.sign_withdrawal(alice, token, 10, 1, FAR, key=new_key))


def test_vault_governance_rejects(system):
    new = Account.from_key(key_of("operator2")).address
    with boa.reverts("vault: operator is the zero address"):
        system.vault.set_operator(ZERO, FAR, system.govern_sigs(eip712.ACTION_SET_OPERATOR, ZERO, 0, vault=True))
    with boa.reverts("vault: token is the zero address"):
        system.vault.set_token_allowed(ZERO, True, FAR, system.govern_sigs(17, ZERO, 0, vault=True))
    past = boa.env.timestamp - 1
    with boa.reverts("vault: signatures expired"):
        system.vault.set_operator(new, past, system.govern_sigs(16, new, 0, deadline=past, vault=True))
    with boa.reverts("registry: not enough signatures for the quorum"):
        system.vault.set_operator(new, FAR, system.govern_sigs(16, new, 0, keys=system.quorum_keys(1), vault=True))
    # registry-domain signatures do not work on the vault
    sigs = system.govern_sigs(16, new, 0)
    with boa.reverts():
        system.vault.set_operator(new, FAR, sigs)
    # allow-signatures cannot disallow
    token = system.collateral.address
    with boa.reverts():
        system.vault.set_token_allowed(token, False, FAR, system.govern_sigs(17, token, 0, vault=True))


def test_vault_follows_registry_committee(system):
    """A member removed in the registry can no longer sign for the vault."""
    members = system.current_members()
    victim = members[0]
    system.registry.remove_member(victim, FAR, system.govern_sigs(eip712.ACTION_REMOVE_MEMBER, victim, 0))
    new = Account.from_key(key_of("operator2")).address
    sigs = system.govern_sigs(16, new, 0, keys=system.keys([victim, members[1]]), vault=True)
    with boa.reverts("registry: signer is not a committee member"):
        system.vault.set_operator(new, FAR, sigs)


def test_nonces_are_per_account(system, alice, bob):
    # The engine numbers each account's withdrawals from 1, so two accounts both use nonce 1.
    token = system.collateral.address
    for who in (alice, bob):
        system.fund_collateral(who, 10 * E6)
        with boa.env.prank(who):
            system.vault.deposit(token, 10 * E6)
    for who in (alice, bob):
        sig = system.sign_withdrawal(who, token, 10 * E6, 1, FAR)
        with boa.env.prank(who):
            system.vault.withdraw(token, 10 * E6, 1, FAR, sig)
        assert system.vault.nonce_used(who, 1)
    assert system.collateral.balanceOf(bob) == 10 * E6
