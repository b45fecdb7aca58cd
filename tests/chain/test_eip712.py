"""EIP-712 digests in the app env equal the contracts' (same fixed vectors as contracts/tests)."""

import pytest
from eth_account import Account

from chain import eip712
from tests.chain._vectors import vectors


@pytest.mark.parametrize("name, kw, domain, expected", vectors.VECTORS, ids=[f"{v[0]}-{v[2]}" for v in vectors.VECTORS])
def test_digest_vectors(name, kw, domain, expected):
    struct = getattr(eip712, name)(**kw)
    if domain == "registry":
        address, domain_name = vectors.REGISTRY_ADDRESS, eip712.REGISTRY_DOMAIN_NAME
    else:
        address, domain_name = vectors.VAULT_ADDRESS, eip712.VAULT_DOMAIN_NAME
    digest = eip712.digest(struct, chain_id=vectors.CHAIN_ID, verifying_contract=address, domain_name=domain_name)
    assert "0x" + digest.hex() == expected


def test_fixed_signature_vector():
    struct = eip712.SlashProposal(**vectors.VECTORS[0][1])
    sig = eip712.sign(
        struct, vectors.SIGNER_KEY, chain_id=vectors.CHAIN_ID, verifying_contract=vectors.REGISTRY_ADDRESS
    )
    assert "0x" + sig.hex() == vectors.SLASH_PROPOSAL_SIGNATURE
    digest = eip712.digest(struct, chain_id=vectors.CHAIN_ID, verifying_contract=vectors.REGISTRY_ADDRESS)
    assert Account._recover_hash(digest, signature=sig) == Account.from_key(vectors.SIGNER_KEY).address


def test_typed_data_is_what_a_wallet_signs():
    """eth_signTypedData_v4 JSON: the same digest through eth-account's full_message path."""
    struct = eip712.WithdrawalAuthorization(**vectors.VECTORS[-1][1])
    data = eip712.typed_data(struct, chain_id=vectors.CHAIN_ID, verifying_contract=vectors.VAULT_ADDRESS)
    assert data["primaryType"] == "WithdrawalAuthorization"
    assert data["domain"] == {
        "name": "ExchangeOS Vault",
        "version": "1",
        "chainId": 31337,
        "verifyingContract": vectors.VAULT_ADDRESS,
    }
    signed = Account.sign_typed_data(vectors.SIGNER_KEY, full_message=data)
    assert "0x" + bytes(signed.message_hash).hex() == vectors.VECTORS[-1][3]


def test_type_strings():
    assert eip712.SlashProposal.type_string() == (
        "SlashProposal(bytes32 caseId,uint256 marketId,uint256 fractionBps,address recipient,uint256 deadline)"
    )
    assert eip712.SlashCancel.type_string() == "SlashCancel(bytes32 caseId,uint256 deadline)"
    assert eip712.HaltMarket.type_string() == "HaltMarket(uint256 marketId,bytes32 reasonHash,uint256 deadline)"
    assert eip712.GovernanceAction.type_string() == (
        "GovernanceAction(uint8 action,address account,uint256 value,uint256 nonce,uint256 deadline)"
    )
    assert eip712.WithdrawalAuthorization.type_string() == (
        "WithdrawalAuthorization(address account,address token,uint256 amount,uint256 nonce,uint256 expiry)"
    )


def test_sign_quorum_orders_by_signer_address():
    keys = [bytes([i]) * 32 for i in range(1, 5)]
    struct = eip712.SlashCancel(case_id=b"\x01" * 32, deadline=1)
    sigs = eip712.sign_quorum(struct, keys, chain_id=1, verifying_contract=vectors.REGISTRY_ADDRESS)
    digest = eip712.digest(struct, chain_id=1, verifying_contract=vectors.REGISTRY_ADDRESS)
    signers = [int(Account._recover_hash(digest, signature=s), 16) for s in sigs]
    assert signers == sorted(signers) and len(set(signers)) == 4
