"""Generated access check: every state-changing function has an access rule, and no outsider
(a random address, or the deployer once deployment is over) passes a privileged one."""

from __future__ import annotations

import json

import boa
import pytest
from conftest import DAY, FAR, ROOT, key_of
from eth_account import Account

from chain import eip712

ANYONE = "anyone"
OWN_FUNDS = "caller's own balance or allowance"
MARKET_DEPLOYER = "the market's deployer"
QUORUM = "quorum of committee signatures"
OPERATOR_SIGNED = "operator's signature, paid only to the signed account"
MINTER = "token minter (the local deployer)"
OWNER = "token owner (the local deployer)"
PERMIT = "holder's EIP-2612 signature"

ACCESS_RULES: dict[str, dict[str, str]] = {
    "MarketRegistry": {
        "register_market": ANYONE,
        "add_bond": MARKET_DEPLOYER,
        "close_market": MARKET_DEPLOYER,
        "request_unbond": MARKET_DEPLOYER,
        "withdraw_bond": MARKET_DEPLOYER,
        "propose_slash": QUORUM,
        "execute_slash": ANYONE,  # only after the public delay, and only what the quorum proposed
        "cancel_slash": QUORUM,
        "halt_market": QUORUM,
        "add_member": QUORUM,
        "remove_member": QUORUM,
        "set_quorum": QUORUM,
        "set_unbonding_delay": QUORUM,
        "set_slash_delay": QUORUM,
        "set_min_bond": QUORUM,
    },
    "Vault": {
        "deposit": ANYONE,
        "withdraw": OPERATOR_SIGNED,
        "set_operator": QUORUM,
        "set_token_allowed": QUORUM,
    },
    "CoreToken": {
        "transfer": OWN_FUNDS,
        "approve": OWN_FUNDS,
        "transferFrom": OWN_FUNDS,
        "burn": OWN_FUNDS,
        "burn_from": OWN_FUNDS,
        "permit": PERMIT,
        "mint": MINTER,
        "set_minter": OWNER,
        "transfer_ownership": OWNER,
        "renounce_ownership": OWNER,
    },
}
ACCESS_RULES["CollateralToken"] = ACCESS_RULES["CoreToken"]
OPEN_RULES = {ANYONE, OWN_FUNDS, PERMIT}


def _state_changing(name: str) -> set[str]:
    abi = json.loads((ROOT / "contracts" / "artifacts" / f"{name}.json").read_text())["abi"]
    return {
        f["name"] for f in abi if f.get("type") == "function" and f.get("stateMutability") in ("nonpayable", "payable")
    }


@pytest.mark.parametrize("contract", sorted(ACCESS_RULES))
def test_every_state_changing_function_has_an_access_rule(contract):
    assert _state_changing(contract) == set(ACCESS_RULES[contract])


def _privileged() -> list[tuple[str, str]]:
    return [
        (c, f) for c, rules in sorted(ACCESS_RULES.items()) for f, r in sorted(rules.items()) if r not in OPEN_RULES
    ]


@pytest.fixture
def world(system):
    """A live market, an unbonded one past its delay, a pending slash and a deposit, all alice's."""
    alice = boa.env.generate_address("world-alice")
    active = system.register(alice)
    closed = system.register(alice)
    with boa.env.prank(alice):
        system.registry.close_market(closed)
        system.registry.request_unbond(closed)
    system.propose(b"\xcc" * 32, active, 100, alice)
    system.fund_collateral(alice, 1_000)
    with boa.env.prank(alice):
        system.vault.deposit(system.collateral.address, 1_000)
    boa.env.time_travel(seconds=8 * DAY)
    return {"alice": alice, "active": active, "closed": closed, "case": b"\xcc" * 32}


def _attempt(system, world, contract: str, fn: str, caller: str, caller_key: bytes) -> None:
    """Call `fn` as `caller`, with the best arguments `caller` can produce on its own: its own
    signatures where signatures are needed, the honest party's arguments elsewhere."""
    reg, vault = system.registry, system.vault

    def sigs(struct, domain_name=None):
        target = vault.address if domain_name else reg.address
        return [
            eip712.sign(
                struct, caller_key, chain_id=system.chain_id, verifying_contract=target, domain_name=domain_name
            )
        ]

    def gov(action, account, value, target=reg, domain_name=None):
        struct = eip712.GovernanceAction(
            action=action, account=account, value=value, nonce=target.governance_nonce(), deadline=FAR
        )
        return sigs(struct, domain_name)

    z = eip712.ZERO_ADDRESS
    with boa.env.prank(caller):
        if contract in ("CoreToken", "CollateralToken"):
            token = system.core if contract == "CoreToken" else system.collateral
            {
                "mint": lambda: token.mint(caller, 1),
                "set_minter": lambda: token.set_minter(world["alice"], True),
                "transfer_ownership": lambda: token.transfer_ownership(caller),
                "renounce_ownership": lambda: token.renounce_ownership(),
            }[fn]()
            return
        calls = {
            "add_bond": lambda: reg.add_bond(world["active"], 1),
            "close_market": lambda: reg.close_market(world["active"]),
            "request_unbond": lambda: reg.request_unbond(world["closed"]),
            "withdraw_bond": lambda: reg.withdraw_bond(world["closed"]),
            "propose_slash": lambda: reg.propose_slash(
                b"\x01" * 32,
                world["active"],
                10_000,
                caller,
                FAR,
                sigs(
                    eip712.SlashProposal(
                        case_id=b"\x01" * 32,
                        market_id=world["active"],
                        fraction_bps=10_000,
                        recipient=caller,
                        deadline=FAR,
                    )
                ),
            ),
            "cancel_slash": lambda: reg.cancel_slash(
                world["case"], FAR, sigs(eip712.SlashCancel(case_id=world["case"], deadline=FAR))
            ),
            "halt_market": lambda: reg.halt_market(
                world["active"],
                b"\x00" * 32,
                FAR,
                sigs(eip712.HaltMarket(market_id=world["active"], reason_hash=b"\x00" * 32, deadline=FAR)),
            ),
            "add_member": lambda: reg.add_member(caller, FAR, gov(1, caller, 0)),
            "remove_member": lambda: reg.remove_member(
                system.current_members()[0], FAR, gov(2, system.current_members()[0], 0)
            ),
            "set_quorum": lambda: reg.set_quorum(1, FAR, gov(3, z, 1)),
            "set_unbonding_delay": lambda: reg.set_unbonding_delay(2 * DAY, FAR, gov(4, z, 2 * DAY)),
            "set_slash_delay": lambda: reg.set_slash_delay(3_600, FAR, gov(5, z, 3_600)),
            "set_min_bond": lambda: reg.set_min_bond(0, 1, FAR, gov(6, z, 1)),
            "withdraw": lambda: vault.withdraw(
                system.collateral.address,
                1_000,
                99,
                FAR,
                eip712.sign(
                    eip712.WithdrawalAuthorization(
                        account=caller, token=system.collateral.address, amount=1_000, nonce=99, expiry=FAR
                    ),
                    caller_key,
                    chain_id=system.chain_id,
                    verifying_contract=vault.address,
                ),
            ),
            "set_operator": lambda: vault.set_operator(
                caller, FAR, gov(16, caller, 0, vault, eip712.VAULT_DOMAIN_NAME)
            ),
            "set_token_allowed": lambda: vault.set_token_allowed(
                system.collateral.address,
                False,
                FAR,
                gov(18, system.collateral.address, 0, vault, eip712.VAULT_DOMAIN_NAME),
            ),
        }
        calls[fn]()


@pytest.mark.parametrize("contract, fn", _privileged(), ids=[f"{c}.{f}" for c, f in _privileged()])
def test_random_address_is_refused(system, world, contract, fn):
    key = key_of(f"random {contract}.{fn}")
    caller = Account.from_key(key).address
    _assert_refused(system, world, contract, fn, caller, key)


REFUSAL = {
    MARKET_DEPLOYER: "registry: only the market's deployer",
    QUORUM: "registry: not enough signatures for the quorum",
    OPERATOR_SIGNED: "vault: not authorised by the operator",
    MINTER: "erc20: access is denied",
    OWNER: "ownable: caller is not the owner",
}


def _assert_refused(system, world, contract, fn, caller, key) -> None:
    """Refused for the access rule's own reason, not for some incidental one."""
    expected = REFUSAL[ACCESS_RULES[contract][fn]]
    try:
        _attempt(system, world, contract, fn, caller, key)
    except boa.BoaError as exc:
        assert expected in str(exc), f"{contract}.{fn} refused, but not with {expected!r}: {exc}"
    else:
        raise AssertionError(f"{contract}.{fn} was allowed for {caller}")


REGISTRY_AND_VAULT = [(c, f) for c, f in _privileged() if c in ("MarketRegistry", "Vault")]


@pytest.mark.parametrize("contract, fn", REGISTRY_AND_VAULT, ids=[f"{c}.{f}" for c, f in REGISTRY_AND_VAULT])
def test_deployer_keeps_no_privilege(system, world, contract, fn):
    """The account that deployed the registry and vault is refused on every privileged path."""
    # the deployer's own key signs whatever it needs; it is not a member, not the operator
    key = key_of("deployer")
    deployer = Account.from_key(key).address
    assert not system.registry.is_member(deployer) and system.vault.operator() != deployer
    _assert_refused(system, world, contract, fn, system.deployer, key)


def test_the_honest_parties_pass_the_same_paths(system, world):
    """Control for the refusals above: the rightful caller gets through (so refusals are about access)."""
    alice = world["alice"]
    with boa.env.prank(alice):
        system.registry.close_market(world["active"])
    system.cancel(world["case"])
    with boa.env.prank(alice):
        system.registry.withdraw_bond(world["closed"])
    sig = system.sign_withdrawal(alice, system.collateral.address, 1_000, 99, FAR)
    with boa.env.prank(alice):
        system.vault.withdraw(system.collateral.address, 1_000, 99, FAR, sig)
