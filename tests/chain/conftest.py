"""Fixtures for the chain tests: local chain settings pointed at the suite's anvil, a fresh deployment."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from chain.deployment import ANVIL_ACCOUNTS
from chain.models import ContractDeployment

DEPLOYER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # anvil account 0
MEMBER_KEYS = (  # anvil accounts 2 and 3: committee members in the local settings
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
)
COMMITTEE = ANVIL_ACCOUNTS[2:5]
FAR = 2**40


@pytest.fixture
def chain_settings(settings, chain_snapshot):
    settings.CHAIN_RPC_URL = chain_snapshot
    settings.CHAIN_ID = 31337
    settings.DEPLOYER_PRIVATE_KEY = DEPLOYER_KEY
    settings.OPERATOR_ADDRESS = ANVIL_ACCOUNTS[1]
    settings.COMMITTEE_ADDRESSES = list(COMMITTEE)
    settings.COMMITTEE_QUORUM = 2
    return settings


def deploy(*args: str) -> str:
    out = io.StringIO()
    call_command("deploy_contracts", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def deployed(db, chain_settings):
    output = deploy()
    return output, {d.name: d for d in ContractDeployment.objects.filter(chain_id=31337)}
