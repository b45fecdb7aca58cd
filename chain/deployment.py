"""Deploy the contracts with web3.py and, on the local anvil chain, mint demo balances. No Django imports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from eth_account import Account
from eth_typing import HexStr
from eth_utils import to_checksum_address
from web3 import Web3
from web3.types import TxParams

from chain.artifacts import load_artifact

LOCAL_CHAIN_ID = 31337
# anvil's default accounts 0..9 (mnemonic "test test test test test test test test test test test junk")
ANVIL_ACCOUNTS = (
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
    "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
    "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
    "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
    "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
)
DEMO_CORE_BALANCE = 100_000 * 10**18
DEMO_COLLATERAL_BALANCE = 1_000_000 * 10**6
# Minimum bonds (core asset, 18 decimals) for spot, perpetual, prediction markets.
DEFAULT_MIN_BONDS = (100 * 10**18, 1_000 * 10**18, 500 * 10**18)
RECEIPT_TIMEOUT_S = 120


class DeploymentError(RuntimeError):
    pass


@dataclass(frozen=True)
class Deployed:
    name: str
    address: str  # checksummed
    tx_hash: str  # 0x-hex
    block_number: int
    artifact_sha256: str


class _Sender:
    """Signs with one local key and tracks its nonce, so several transactions can be in flight."""

    def __init__(self, w3: Web3, private_key: str | bytes) -> None:
        self.w3 = w3
        self.account = Account.from_key(private_key)
        self.chain_id = w3.eth.chain_id
        self.nonce = int(w3.eth.get_transaction_count(self.account.address, "pending"))

    def send(self, tx: dict[str, Any]) -> str:
        tx = {**tx, "from": self.account.address, "nonce": self.nonce, "chainId": self.chain_id}
        if "gas" not in tx:
            tx["gas"] = self.w3.eth.estimate_gas(cast(TxParams, tx)) * 12 // 10
        if "maxFeePerGas" not in tx and "gasPrice" not in tx:
            tx["gasPrice"] = self.w3.eth.gas_price
        signed = self.account.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        self.nonce += 1
        return "0x" + bytes(tx_hash).hex()

    def wait(self, tx_hash: str) -> Any:
        receipt = self.w3.eth.wait_for_transaction_receipt(HexStr(tx_hash), timeout=RECEIPT_TIMEOUT_S)
        if receipt["status"] != 1:
            raise DeploymentError(f"transaction {tx_hash} reverted")
        return receipt


def _deploy(sender: _Sender, name: str, *args: Any) -> Deployed:
    artifact = load_artifact(name)
    factory = sender.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx = factory.constructor(*args).build_transaction({"from": sender.account.address, "nonce": sender.nonce})
    tx_hash = sender.send({k: v for k, v in tx.items() if k in ("data", "value", "gas")})
    receipt = sender.wait(tx_hash)
    return Deployed(
        name=name,
        address=to_checksum_address(receipt["contractAddress"]),
        tx_hash=tx_hash,
        block_number=int(receipt["blockNumber"]),
        artifact_sha256=artifact.sha256,
    )


def contract(w3: Web3, name: str, address: str) -> Any:
    """A web3 contract object for a deployed contract, from its artifact ABI."""
    return w3.eth.contract(address=to_checksum_address(address), abi=load_artifact(name).abi)


def deploy_all(
    w3: Web3,
    deployer_key: str | bytes,
    committee: Sequence[str],
    quorum: int,
    operator: str,
    *,
    min_bonds: Sequence[int] = DEFAULT_MIN_BONDS,
    core_token: str | None = None,
    collateral_token: str | None = None,
    demo_accounts: Sequence[str] = ANVIL_ACCOUNTS,
) -> dict[str, Deployed]:
    """Deploy MarketRegistry and Vault (and, on the local chain, the two stand-in tokens).

    On chain id 31337 the stand-in CoreToken and CollateralToken are deployed unless addresses are
    given, and `demo_accounts` get demo balances of both. Elsewhere `core_token` and
    `collateral_token` are required: the stand-ins are for local chains only.
    The deployer keeps no privilege over the registry or the vault; it stays the minter of the
    local stand-in tokens only.
    """
    sender = _Sender(w3, deployer_key)
    local = sender.chain_id == LOCAL_CHAIN_ID
    if not local and not (core_token and collateral_token):
        raise DeploymentError(
            f"chain id {sender.chain_id} is not the local chain: give the core and collateral token addresses"
        )
    committee = sorted((to_checksum_address(a) for a in committee), key=lambda a: int(a, 16))
    if not 1 <= quorum <= len(committee):
        raise DeploymentError(f"quorum {quorum} must be between 1 and the committee size {len(committee)}")

    out: dict[str, Deployed] = {}
    if core_token is None:
        out["CoreToken"] = _deploy(sender, "CoreToken")
        core_token = out["CoreToken"].address
    if collateral_token is None:
        out["CollateralToken"] = _deploy(sender, "CollateralToken")
        collateral_token = out["CollateralToken"].address
    out["MarketRegistry"] = _deploy(
        sender, "MarketRegistry", to_checksum_address(core_token), committee, quorum, *min_bonds
    )
    out["Vault"] = _deploy(
        sender,
        "Vault",
        out["MarketRegistry"].address,
        to_checksum_address(operator),
        [to_checksum_address(collateral_token), to_checksum_address(core_token)],
    )
    if local and "CoreToken" in out and "CollateralToken" in out:
        mint_demo_balances(w3, sender, out["CoreToken"].address, out["CollateralToken"].address, demo_accounts)
    return out


def mint_demo_balances(
    w3: Web3, sender: _Sender, core_token: str, collateral_token: str, accounts: Sequence[str]
) -> None:
    """Mint demo balances of both stand-in tokens; sends all, then waits for all."""
    core = contract(w3, "CoreToken", core_token)
    collateral = contract(w3, "CollateralToken", collateral_token)
    hashes = []
    for account in accounts:
        for token, amount in ((core, DEMO_CORE_BALANCE), (collateral, DEMO_COLLATERAL_BALANCE)):
            data = token.functions.mint(to_checksum_address(account), amount)._encode_transaction_data()
            hashes.append(sender.send({"to": token.address, "data": data, "gas": 100_000}))
    for tx_hash in hashes:
        sender.wait(tx_hash)


def has_code(w3: Web3, address: str) -> bool:
    return len(w3.eth.get_code(to_checksum_address(address))) > 0
