"""The contracts' EIP-712 digests equal eth-account's (chain.eip712) for fixed vectors."""

from __future__ import annotations

import boa
import pytest
from conftest import MIN_BONDS, SRC, deployer_of
from vectors import CHAIN_ID, REGISTRY_ADDRESS, VAULT_ADDRESS, VECTORS

from chain import eip712


@pytest.fixture
def at_fixed_addresses(system):
    """Registry and vault deployed at the vector addresses on chain id 31337."""
    boa.env.evm.patch.chain_id = CHAIN_ID
    registry = deployer_of(SRC / "MarketRegistry.vy").deploy(
        system.core.address, system.current_members(), 2, *MIN_BONDS, override_address=REGISTRY_ADDRESS
    )
    vault = deployer_of(SRC / "Vault.vy").deploy(registry.address, system.operator, [], override_address=VAULT_ADDRESS)
    return registry, vault


def _contract_digest(registry, vault, name: str, kw: dict) -> bytes:
    if name == "SlashProposal":
        return registry.slash_digest(
            kw["case_id"], kw["market_id"], kw["fraction_bps"], kw["recipient"], kw["deadline"]
        )
    if name == "SlashCancel":
        return registry.cancel_digest(kw["case_id"], kw["deadline"])
    if name == "HaltMarket":
        return registry.halt_digest(kw["market_id"], kw["reason_hash"], kw["deadline"])
    if name == "WithdrawalAuthorization":
        return vault.withdraw_digest(kw["account"], kw["token"], kw["amount"], kw["nonce"], kw["expiry"])
    raise AssertionError(name)


@pytest.mark.parametrize("name, kw, domain, expected", VECTORS, ids=[f"{v[0]}-{v[2]}" for v in VECTORS])
def test_contract_digest_matches_python(at_fixed_addresses, name, kw, domain, expected):
    registry, vault = at_fixed_addresses
    struct = getattr(eip712, name)(**kw)
    target = registry if domain == "registry" else vault
    domain_name = eip712.REGISTRY_DOMAIN_NAME if domain == "registry" else eip712.VAULT_DOMAIN_NAME
    python = eip712.digest(struct, chain_id=CHAIN_ID, verifying_contract=target.address, domain_name=domain_name)
    if name == "GovernanceAction":
        onchain = target.governance_digest(kw["action"], kw["account"], kw["value"], kw["nonce"], kw["deadline"])
    else:
        onchain = _contract_digest(registry, vault, name, kw)
    assert "0x" + python.hex() == expected
    assert "0x" + onchain.hex() == expected


def test_type_strings_match_contract_typehashes():
    """The Python type strings are the ones hashed in the sources."""
    sources = (SRC / "MarketRegistry.vy").read_text() + (SRC / "Vault.vy").read_text()
    for struct in (
        eip712.SlashProposal,
        eip712.SlashCancel,
        eip712.HaltMarket,
        eip712.GovernanceAction,
        eip712.WithdrawalAuthorization,
    ):
        assert f'"{struct.type_string()}"' in sources


def test_domain_separator_matches(at_fixed_addresses):
    from eth_abi import encode
    from eth_utils import keccak

    registry, vault = at_fixed_addresses
    for contract, name in ((registry, eip712.REGISTRY_DOMAIN_NAME), (vault, eip712.VAULT_DOMAIN_NAME)):
        expected = keccak(
            encode(
                ["bytes32", "bytes32", "bytes32", "uint256", "address"],
                [
                    keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                    keccak(text=name),
                    keccak(text="1"),
                    CHAIN_ID,
                    contract.address,
                ],
            )
        )
        assert contract.domain_separator() == expected


def test_signature_for_another_chain_id_is_refused(system, alice):
    """Signed for chain 5, submitted on the test chain."""
    mid = system.register(alice)
    struct = eip712.SlashProposal(case_id=b"\x01" * 32, market_id=mid, fraction_bps=1, recipient=alice, deadline=2**40)
    sigs = system.sign_registry(struct, system.quorum_keys(), chain_id=5)
    with boa.reverts():
        system.registry.propose_slash(b"\x01" * 32, mid, 1, alice, 2**40, sigs)
