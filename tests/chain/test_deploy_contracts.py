"""manage.py deploy_contracts against a real anvil: records, demo balances, idempotence, no owner key."""

from __future__ import annotations

import pytest
from eth_account import Account
from web3.exceptions import ContractLogicError

from chain import eip712
from chain.client import web3_client
from chain.deployment import ANVIL_ACCOUNTS, DEMO_COLLATERAL_BALANCE, DEMO_CORE_BALANCE, contract
from chain.models import ContractDeployment
from tests.chain.conftest import COMMITTEE, DEPLOYER_KEY, FAR, MEMBER_KEYS, deploy


def test_deploys_records_and_mints(deployed):
    output, rows = deployed
    assert set(rows) == {"CoreToken", "CollateralToken", "MarketRegistry", "Vault"}
    w3 = web3_client()
    for row in rows.values():
        assert len(row.address) == 42 and row.address == w3.to_checksum_address(row.address)
        assert row.address in output
        assert len(w3.eth.get_code(row.address)) > 0
        assert row.tx_hash.startswith("0x") and len(row.tx_hash) == 66 and row.block_number > 0
    registry = contract(w3, "MarketRegistry", rows["MarketRegistry"].address)
    vault = contract(w3, "Vault", rows["Vault"].address)
    assert registry.functions.quorum().call() == 2
    assert sorted(registry.functions.members(i).call() for i in range(3)) == sorted(COMMITTEE)
    assert registry.functions.core_token().call() == rows["CoreToken"].address
    assert vault.functions.operator().call() == ANVIL_ACCOUNTS[1]
    assert vault.functions.committee().call() == rows["MarketRegistry"].address
    assert vault.functions.is_token_allowed(rows["CollateralToken"].address).call()
    core = contract(w3, "CoreToken", rows["CoreToken"].address)
    collateral = contract(w3, "CollateralToken", rows["CollateralToken"].address)
    for account in ANVIL_ACCOUNTS:
        assert core.functions.balanceOf(account).call() == DEMO_CORE_BALANCE
        assert collateral.functions.balanceOf(account).call() == DEMO_COLLATERAL_BALANCE
    assert collateral.functions.decimals().call() == 6


def test_second_run_skips_and_force_redeploys(deployed):
    _, rows = deployed
    output = deploy()
    assert "already deployed" in output
    assert {d.name: d.address for d in ContractDeployment.objects.all()} == {n: r.address for n, r in rows.items()}
    deploy("--force")
    again = {d.name: d.address for d in ContractDeployment.objects.filter(chain_id=31337)}
    assert ContractDeployment.objects.count() == 4
    assert again["Vault"] != rows["Vault"].address


def test_redeploys_when_recorded_contracts_are_gone(db, chain_settings):
    ContractDeployment.objects.create(
        chain_id=31337,
        name="Vault",
        address="0x" + "ab" * 20,
        tx_hash="0x" + "00" * 32,
        block_number=1,
        artifact_sha256="0" * 64,
    )
    ContractDeployment.objects.create(
        chain_id=31337,
        name="MarketRegistry",
        address="0x" + "cd" * 20,
        tx_hash="0x" + "00" * 32,
        block_number=1,
        artifact_sha256="0" * 64,
    )
    output = deploy()
    assert "Deployed on chain 31337" in output
    assert ContractDeployment.objects.get(name="Vault").address != "0x" + "ab" * 20


def test_wrong_chain_id_is_refused(db, chain_settings):
    chain_settings.CHAIN_ID = 1
    with pytest.raises(Exception, match="settings say 1"):
        deploy()


def test_deployer_key_keeps_no_privilege(deployed):
    """Every privileged path of the registry and vault, called from the deployer (account 0)
    with whatever the deployer can sign, is refused."""
    _, rows = deployed
    w3 = web3_client()
    deployer = Account.from_key(DEPLOYER_KEY).address
    registry = contract(w3, "MarketRegistry", rows["MarketRegistry"].address)
    vault = contract(w3, "Vault", rows["Vault"].address)
    chain_id = 31337
    zero = eip712.ZERO_ADDRESS

    def sig(struct, target, domain_name=None):
        return [
            eip712.sign(struct, DEPLOYER_KEY, chain_id=chain_id, verifying_contract=target, domain_name=domain_name)
        ]

    def gov(action, account, value, target=registry, domain_name=None):
        nonce = target.functions.governance_nonce().call()
        struct = eip712.GovernanceAction(action=action, account=account, value=value, nonce=nonce, deadline=FAR)
        return sig(struct, target.address, domain_name)

    # a market launched by someone else (account 5), so market-level paths have a target
    launcher = ANVIL_ACCOUNTS[5]
    core = contract(w3, "CoreToken", rows["CoreToken"].address)
    bond = registry.functions.min_bond(0).call()
    for tx in (
        core.functions.approve(registry.address, bond).transact({"from": launcher}),
        registry.functions.register_market(b"\x5e" * 32, 0, bond).transact({"from": launcher}),
    ):
        assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1

    # a pending slash proposed by a real quorum, so cancel_slash has a target
    pending = b"\x02" * 32
    proposal = eip712.SlashProposal(case_id=pending, market_id=1, fraction_bps=100, recipient=launcher, deadline=FAR)
    quorum_sigs = eip712.sign_quorum(
        proposal, list(MEMBER_KEYS), chain_id=chain_id, verifying_contract=registry.address
    )
    tx = registry.functions.propose_slash(pending, 1, 100, launcher, FAR, quorum_sigs).transact({"from": launcher})
    assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1

    case = b"\x01" * 32
    vault_domain = eip712.VAULT_DOMAIN_NAME
    calls = {
        "propose_slash": registry.functions.propose_slash(
            case,
            1,
            10_000,
            deployer,
            FAR,
            sig(
                eip712.SlashProposal(case_id=case, market_id=1, fraction_bps=10_000, recipient=deployer, deadline=FAR),
                registry.address,
            ),
        ),
        "cancel_slash": registry.functions.cancel_slash(
            pending, FAR, sig(eip712.SlashCancel(case_id=pending, deadline=FAR), registry.address)
        ),
        "halt_market": registry.functions.halt_market(
            1,
            b"\x00" * 32,
            FAR,
            sig(eip712.HaltMarket(market_id=1, reason_hash=b"\x00" * 32, deadline=FAR), registry.address),
        ),
        "add_member": registry.functions.add_member(deployer, FAR, gov(1, deployer, 0)),
        "remove_member": registry.functions.remove_member(COMMITTEE[0], FAR, gov(2, COMMITTEE[0], 0)),
        "set_quorum": registry.functions.set_quorum(1, FAR, gov(3, zero, 1)),
        "set_unbonding_delay": registry.functions.set_unbonding_delay(2 * 86_400, FAR, gov(4, zero, 2 * 86_400)),
        "set_slash_delay": registry.functions.set_slash_delay(3_600, FAR, gov(5, zero, 3_600)),
        "set_min_bond": registry.functions.set_min_bond(0, 1, FAR, gov(6, zero, 1)),
        "set_operator": vault.functions.set_operator(deployer, FAR, gov(16, deployer, 0, vault, vault_domain)),
        "set_token_allowed": vault.functions.set_token_allowed(
            rows["CoreToken"].address, False, FAR, gov(18, rows["CoreToken"].address, 0, vault, vault_domain)
        ),
        "withdraw": vault.functions.withdraw(
            rows["CollateralToken"].address,
            1,
            1,
            FAR,
            eip712.sign(
                eip712.WithdrawalAuthorization(
                    account=deployer, token=rows["CollateralToken"].address, amount=1, nonce=1, expiry=FAR
                ),
                DEPLOYER_KEY,
                chain_id=chain_id,
                verifying_contract=vault.address,
            ),
        ),
    }
    privileged = {
        f["name"]
        for c in (registry, vault)
        for f in c.abi
        if f.get("type") == "function" and f.get("stateMutability") == "nonpayable"
    } - {"register_market", "execute_slash", "deposit"}  # open to anyone by design
    calls["add_bond"] = registry.functions.add_bond(1, 1)
    calls["close_market"] = registry.functions.close_market(1)
    calls["request_unbond"] = registry.functions.request_unbond(1)
    calls["withdraw_bond"] = registry.functions.withdraw_bond(1)
    assert set(calls) == privileged
    expected = ("not enough signatures for the quorum", "not authorised by the operator", "only the market's deployer")
    for name, call in calls.items():
        with pytest.raises(ContractLogicError) as excinfo:
            call.call({"from": deployer})
        reason = str(excinfo.value)
        assert any(e in reason for e in expected), (name, reason)
