"""Suite-wide fixtures: the throwaway anvil node, web3, chain snapshots and browser plumbing."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"


def rpc(url: str, method: str, params: list | None = None) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        reply = json.loads(resp.read())
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error']}")
    return reply["result"]


@pytest.fixture(scope="session")
def anvil_rpc_url() -> Iterator[str]:
    """The suite's anvil node: the one `make test` started, or a fresh one for a bare pytest run."""
    url = os.environ.get("CHAIN_RPC_URL", "")
    if url:
        try:
            rpc(url, "eth_chainId")
            yield url
            return
        except OSError:
            pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [str(ANVIL), "--port", str(port), "--chain-id", "31337", "--silent"], start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            rpc(url, "eth_chainId")
            break
        except OSError:
            time.sleep(0.05)
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=10)


@pytest.fixture
def chain_snapshot(anvil_rpc_url: str) -> Iterator[str]:
    """Roll the chain back after the test, so chain tests do not leak state into each other."""
    snapshot = rpc(anvil_rpc_url, "evm_snapshot")
    yield anvil_rpc_url
    rpc(anvil_rpc_url, "evm_revert", [snapshot])


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    # Keep each phase's report on the test item, so fixtures can tell whether the test failed.
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
