"""Fixtures for the contract tests (titanoboa): one deployment per session, rolled back per test."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import boa
import pytest
from eth_account import Account
from eth_utils import keccak
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # chain.eip712 / chain.canonical are pure and shared with the app

from chain import eip712  # noqa: E402

SRC = ROOT / "contracts" / "src"
MOCKS = ROOT / "contracts" / "tests" / "mocks"

settings.register_profile(
    "ci",
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
    database=None,  # CI keeps no example database between runs
)
settings.register_profile(
    "dev", max_examples=25, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "soak",
    max_examples=2_000,
    stateful_step_count=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
    database=None,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

E18 = 10**18
E6 = 10**6
MIN_BONDS = (100 * E18, 1_000 * E18, 500 * E18)  # spot, perpetual, prediction
DAY = 86_400
FAR = 2**40  # a deadline far in the future


def key_of(label: str) -> bytes:
    return keccak(text=f"exchange-os test key {label}")


@dataclass
class System:
    """The deployed contracts plus the people and keys the tests act as."""

    core: object
    collateral: object
    registry: object
    vault: object
    deployer: str
    operator_key: bytes
    member_keys: dict[str, bytes]  # address -> private key, current and former members
    spare_keys: list[bytes] = field(default_factory=list)

    @property
    def operator(self) -> str:
        return Account.from_key(self.operator_key).address

    @property
    def chain_id(self) -> int:
        return boa.env.evm.patch.chain_id

    def keys(self, addresses: list[str]) -> list[bytes]:
        return [self.member_keys[a] for a in addresses]

    def current_members(self) -> list[str]:
        return [self.registry.members(i) for i in range(self.registry.member_count())]

    def quorum_keys(self, n: int | None = None) -> list[bytes]:
        members = self.current_members()
        return self.keys(members[: n if n is not None else self.registry.quorum()])

    def sign_registry(self, struct, keys, *, chain_id=None, contract=None) -> list[bytes]:
        return eip712.sign_quorum(
            struct,
            keys,
            chain_id=self.chain_id if chain_id is None else chain_id,
            verifying_contract=contract or self.registry.address,
        )

    def sign_vault_gov(self, struct, keys, *, chain_id=None, contract=None) -> list[bytes]:
        return eip712.sign_quorum(
            struct,
            keys,
            chain_id=self.chain_id if chain_id is None else chain_id,
            verifying_contract=contract or self.vault.address,
            domain_name=eip712.VAULT_DOMAIN_NAME,
        )

    def sign_withdrawal(
        self, account, token, amount, nonce, expiry, *, key=None, chain_id=None, contract=None
    ) -> bytes:
        struct = eip712.WithdrawalAuthorization(account=account, token=token, amount=amount, nonce=nonce, expiry=expiry)
        return eip712.sign(
            struct,
            key or self.operator_key,
            chain_id=self.chain_id if chain_id is None else chain_id,
            verifying_contract=contract or self.vault.address,
        )

    # --- common actions -------------------------------------------------
    def fund_core(self, who: str, amount: int) -> None:
        with boa.env.prank(self.deployer):
            self.core.mint(who, amount)
        with boa.env.prank(who):
            self.core.approve(self.registry.address, 2**256 - 1)

    def fund_collateral(self, who: str, amount: int) -> None:
        with boa.env.prank(self.deployer):
            self.collateral.mint(who, amount)
        with boa.env.prank(who):
            self.collateral.approve(self.vault.address, 2**256 - 1)

    def register(self, who: str, kind: int = 0, bond: int | None = None, spec: bytes = b"\x01" * 32) -> int:
        bond = MIN_BONDS[kind] if bond is None else bond
        self.fund_core(who, bond)
        with boa.env.prank(who):
            return self.registry.register_market(spec, kind, bond)

    def propose(self, case_id: bytes, market_id: int, bps: int, recipient: str, deadline: int = FAR, keys=None):
        struct = eip712.SlashProposal(
            case_id=case_id, market_id=market_id, fraction_bps=bps, recipient=recipient, deadline=deadline
        )
        sigs = self.sign_registry(struct, keys if keys is not None else self.quorum_keys())
        self.registry.propose_slash(case_id, market_id, bps, recipient, deadline, sigs)

    def halt(self, market_id: int, reason: bytes = b"\x07" * 32, deadline: int = FAR, keys=None):
        struct = eip712.HaltMarket(market_id=market_id, reason_hash=reason, deadline=deadline)
        sigs = self.sign_registry(struct, keys if keys is not None else self.quorum_keys())
        self.registry.halt_market(market_id, reason, deadline, sigs)

    def cancel(self, case_id: bytes, deadline: int = FAR, keys=None):
        struct = eip712.SlashCancel(case_id=case_id, deadline=deadline)
        sigs = self.sign_registry(struct, keys if keys is not None else self.quorum_keys())
        self.registry.cancel_slash(case_id, deadline, sigs)

    def govern_sigs(self, action: int, account: str, value: int, deadline: int = FAR, keys=None, vault=False):
        target = self.vault if vault else self.registry
        struct = eip712.GovernanceAction(
            action=action, account=account, value=value, nonce=target.governance_nonce(), deadline=deadline
        )
        keys = keys if keys is not None else self.quorum_keys()
        return self.sign_vault_gov(struct, keys) if vault else self.sign_registry(struct, keys)


_DEPLOYERS: dict[str, object] = {}


def deployer_of(path: Path):
    """Compile once per session; boa.load would recompile on every call."""
    if str(path) not in _DEPLOYERS:
        _DEPLOYERS[str(path)] = boa.load_partial(str(path))
    return _DEPLOYERS[str(path)]


def deploy_system() -> System:
    deployer = boa.env.generate_address("deployer")
    member_keys = {Account.from_key(k).address: k for k in (key_of(f"member{i}") for i in range(3))}
    spare_keys = [key_of(f"spare{i}") for i in range(4)]
    for k in spare_keys:
        member_keys[Account.from_key(k).address] = k
    operator_key = key_of("operator")
    with boa.env.prank(deployer):
        core = deployer_of(SRC / "CoreToken.vy").deploy()
        collateral = deployer_of(SRC / "CollateralToken.vy").deploy()
        committee = sorted(list(member_keys)[:3], key=lambda a: int(a, 16))
        registry = deployer_of(SRC / "MarketRegistry.vy").deploy(core.address, committee, 2, *MIN_BONDS)
        vault = deployer_of(SRC / "Vault.vy").deploy(
            registry.address,
            Account.from_key(operator_key).address,
            [collateral.address, core.address],
        )
    return System(core, collateral, registry, vault, deployer, operator_key, member_keys, spare_keys)


@pytest.fixture(scope="session")
def _deployed() -> System:
    return deploy_system()


@pytest.fixture
def system(_deployed: System):
    with boa.env.anchor():
        yield _deployed


@pytest.fixture
def alice() -> str:
    return boa.env.generate_address("alice")


@pytest.fixture
def bob() -> str:
    return boa.env.generate_address("bob")
