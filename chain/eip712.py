"""EIP-712 wire types of the contracts: struct builders, typed-data messages, digests and signing.

Pure: no Django, no I/O. Type strings, domains and fixed vectors are in docs/contracts.md; the
contract tests sign with these same builders, so Python and the contracts agree by test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

REGISTRY_DOMAIN_NAME = "ExchangeOS MarketRegistry"
VAULT_DOMAIN_NAME = "ExchangeOS Vault"
DOMAIN_VERSION = "1"

EIP712_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]

# Governance action codes (GovernanceAction.action); the contracts expose the same constants.
ACTION_ADD_MEMBER = 1
ACTION_REMOVE_MEMBER = 2
ACTION_SET_QUORUM = 3
ACTION_SET_UNBONDING_DELAY = 4
ACTION_SET_SLASH_DELAY = 5
ACTION_SET_MIN_BOND_SPOT = 6  # + market kind (0 spot, 1 perpetual, 2 prediction)
ACTION_SET_OPERATOR = 16
ACTION_ALLOW_TOKEN = 17
ACTION_DISALLOW_TOKEN = 18

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def _bytes32(value: bytes | str) -> bytes:
    raw = bytes.fromhex(value[2:] if value.startswith("0x") else value) if isinstance(value, str) else bytes(value)
    if len(raw) != 32:
        raise ValueError(f"expected 32 bytes, got {len(raw)}")
    return raw


@dataclass(frozen=True)
class _Struct:
    """Base of the wire structs: field order and Solidity types define the EIP-712 type string."""

    PRIMARY_TYPE: ClassVar[str]
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]]  # (python attribute, EIP-712 name, type)
    DOMAIN_NAME: ClassVar[str]

    @classmethod
    def type_string(cls) -> str:
        return f"{cls.PRIMARY_TYPE}(" + ",".join(f"{t} {n}" for _, n, t in cls.FIELDS) + ")"

    def message(self) -> dict[str, Any]:
        """The struct as eth_signTypedData_v4 JSON values (bytes32 as 0x-hex, addresses checksummed)."""
        out: dict[str, Any] = {}
        for attr, name, typ in self.FIELDS:
            value = getattr(self, attr)
            if typ == "bytes32":
                value = "0x" + _bytes32(value).hex()
            elif typ == "address":
                value = to_checksum_address(value)
            out[name] = value
        return out


@dataclass(frozen=True)
class SlashProposal(_Struct):
    case_id: bytes
    market_id: int
    fraction_bps: int
    recipient: str
    deadline: int

    PRIMARY_TYPE = "SlashProposal"
    FIELDS = (
        ("case_id", "caseId", "bytes32"),
        ("market_id", "marketId", "uint256"),
        ("fraction_bps", "fractionBps", "uint256"),
        ("recipient", "recipient", "address"),
        ("deadline", "deadline", "uint256"),
    )
    DOMAIN_NAME = REGISTRY_DOMAIN_NAME


@dataclass(frozen=True)
class SlashCancel(_Struct):
    case_id: bytes
    deadline: int

    PRIMARY_TYPE = "SlashCancel"
    FIELDS = (("case_id", "caseId", "bytes32"), ("deadline", "deadline", "uint256"))
    DOMAIN_NAME = REGISTRY_DOMAIN_NAME


@dataclass(frozen=True)
class HaltMarket(_Struct):
    market_id: int
    reason_hash: bytes
    deadline: int

    PRIMARY_TYPE = "HaltMarket"
    FIELDS = (
        ("market_id", "marketId", "uint256"),
        ("reason_hash", "reasonHash", "bytes32"),
        ("deadline", "deadline", "uint256"),
    )
    DOMAIN_NAME = REGISTRY_DOMAIN_NAME


@dataclass(frozen=True)
class GovernanceAction(_Struct):
    """Signed for the MarketRegistry domain (committee, quorum, bonds, delays) or the Vault domain
    (operator, allowed tokens); `nonce` is that contract's current governance_nonce."""

    action: int
    account: str
    value: int
    nonce: int
    deadline: int

    PRIMARY_TYPE = "GovernanceAction"
    FIELDS = (
        ("action", "action", "uint8"),
        ("account", "account", "address"),
        ("value", "value", "uint256"),
        ("nonce", "nonce", "uint256"),
        ("deadline", "deadline", "uint256"),
    )
    DOMAIN_NAME = REGISTRY_DOMAIN_NAME  # pass domain_name=VAULT_DOMAIN_NAME for vault actions


@dataclass(frozen=True)
class WithdrawalAuthorization(_Struct):
    account: str
    token: str
    amount: int
    nonce: int
    expiry: int

    PRIMARY_TYPE = "WithdrawalAuthorization"
    FIELDS = (
        ("account", "account", "address"),
        ("token", "token", "address"),
        ("amount", "amount", "uint256"),
        ("nonce", "nonce", "uint256"),
        ("expiry", "expiry", "uint256"),
    )
    DOMAIN_NAME = VAULT_DOMAIN_NAME


def domain(name: str, chain_id: int, verifying_contract: str) -> dict[str, Any]:
    return {
        "name": name,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": to_checksum_address(verifying_contract),
    }


def typed_data(
    struct: _Struct, *, chain_id: int, verifying_contract: str, domain_name: str | None = None
) -> dict[str, Any]:
    """The full eth_signTypedData_v4 / eth-account `encode_typed_data(full_message=...)` input."""
    return {
        "types": {
            "EIP712Domain": EIP712_DOMAIN_FIELDS,
            struct.PRIMARY_TYPE: [{"name": n, "type": t} for _, n, t in struct.FIELDS],
        },
        "primaryType": struct.PRIMARY_TYPE,
        "domain": domain(domain_name or struct.DOMAIN_NAME, chain_id, verifying_contract),
        "message": struct.message(),
    }


def digest(struct: _Struct, *, chain_id: int, verifying_contract: str, domain_name: str | None = None) -> bytes:
    """keccak256(0x1901 ‖ domainSeparator ‖ hashStruct): what the contract's *_digest views return."""
    signable = encode_typed_data(
        full_message=typed_data(
            struct, chain_id=chain_id, verifying_contract=verifying_contract, domain_name=domain_name
        )
    )
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign(
    struct: _Struct, private_key: bytes | str, *, chain_id: int, verifying_contract: str, domain_name: str | None = None
) -> bytes:
    """A 65-byte r ‖ s ‖ v signature (v = 27/28), the form the contracts take."""
    h = digest(struct, chain_id=chain_id, verifying_contract=verifying_contract, domain_name=domain_name)
    signed = Account.unsafe_sign_hash(h, private_key)
    return signed.r.to_bytes(32, "big") + signed.s.to_bytes(32, "big") + bytes([signed.v])


def sign_quorum(
    struct: _Struct,
    private_keys: list[bytes | str],
    *,
    chain_id: int,
    verifying_contract: str,
    domain_name: str | None = None,
) -> list[bytes]:
    """Signatures of several keys, ordered by strictly increasing signer address as the contracts require."""
    keyed = sorted(private_keys, key=lambda k: int(Account.from_key(k).address, 16))
    return [
        sign(struct, k, chain_id=chain_id, verifying_contract=verifying_contract, domain_name=domain_name)
        for k in keyed
    ]
