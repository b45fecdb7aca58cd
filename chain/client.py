"""The web3 client for the configured chain node."""

from django.conf import settings
from web3 import Web3

RPC_TIMEOUT_S = 5


def web3_client() -> Web3:
    """A client for settings.CHAIN_RPC_URL; read on every call so tests and settings overrides apply."""
    return Web3(Web3.HTTPProvider(settings.CHAIN_RPC_URL, request_kwargs={"timeout": RPC_TIMEOUT_S}))
