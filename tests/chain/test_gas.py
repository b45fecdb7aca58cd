"""Gas of the main paths on anvil (full transaction gasUsed), held under ceilings; docs/contracts.md has the figures."""

from __future__ import annotations

from chain import eip712
from chain.client import web3_client
from chain.deployment import ANVIL_ACCOUNTS, contract
from tests.chain.conftest import FAR, MEMBER_KEYS

OPERATOR_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # anvil account 1
# ~10% above the figures measured when the contracts were written; a rise past them is a regression to look at.
CEILINGS = {
    "register_market": 210_000,  # second market, perpetual: 190,895
    "propose_slash": 215_000,  # 2 signatures: 195,233
    "execute_slash": 76_000,  # 63,504
    "deposit": 62_000,  # 55,351
    "withdraw": 85_000,  # second withdrawal: 75,359
}


def test_gas_of_main_paths(deployed):
    _, rows = deployed
    w3 = web3_client()
    registry = contract(w3, "MarketRegistry", rows["MarketRegistry"].address)
    vault = contract(w3, "Vault", rows["Vault"].address)
    core = contract(w3, "CoreToken", rows["CoreToken"].address)
    usd = contract(w3, "CollateralToken", rows["CollateralToken"].address)
    user, recipient = ANVIL_ACCOUNTS[5], ANVIL_ACCOUNTS[6]
    used: dict[str, int] = {}

    def send(label: str | None, fn, sender: str = user) -> None:
        receipt = w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender}))
        assert receipt["status"] == 1, label
        if label:
            used[label] = receipt["gasUsed"]

    def quorum(struct):
        return eip712.sign_quorum(struct, list(MEMBER_KEYS), chain_id=31337, verifying_contract=registry.address)

    send(None, core.functions.approve(registry.address, 2**256 - 1))
    send(None, registry.functions.register_market(b"\x01" * 32, 0, 100 * 10**18))  # first market pays cold slots
    send("register_market", registry.functions.register_market(b"\x02" * 32, 1, 1_000 * 10**18))
    case = b"\x0c" * 32
    proposal = eip712.SlashProposal(case_id=case, market_id=2, fraction_bps=2_500, recipient=recipient, deadline=FAR)
    send("propose_slash", registry.functions.propose_slash(case, 2, 2_500, recipient, FAR, quorum(proposal)), recipient)
    w3.provider.make_request("evm_increaseTime", [2 * 86_400])
    w3.provider.make_request("evm_mine", [])
    send("execute_slash", registry.functions.execute_slash(case), recipient)
    send(None, usd.functions.approve(vault.address, 2**256 - 1))
    send(None, vault.functions.deposit(usd.address, 10**6))  # first deposit pays cold slots
    send("deposit", vault.functions.deposit(usd.address, 100 * 10**6))
    for nonce in (1, 2):
        auth = eip712.WithdrawalAuthorization(account=user, token=usd.address, amount=10**6, nonce=nonce, expiry=FAR)
        sig = eip712.sign(auth, OPERATOR_KEY, chain_id=31337, verifying_contract=vault.address)
        send("withdraw", vault.functions.withdraw(usd.address, 10**6, nonce, FAR, sig))

    print("gas:", used)
    for label, ceiling in CEILINGS.items():
        assert used[label] <= ceiling, f"{label} used {used[label]} gas, ceiling {ceiling}"
