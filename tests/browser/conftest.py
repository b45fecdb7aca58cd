"""Browser harness: Debian's Chromium driven by Playwright, with an injected wallet backed by anvil."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from .provider import provider_script

ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# anvil's first dev account: the test trader.
TRADER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    # Playwright's sync API runs an event loop in this thread; the live server's ORM use is in
    # its own thread, and the test's ORM calls happen while no browser call is in flight.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def wallet_page(
    request: pytest.FixtureRequest, browser: Browser, anvil_rpc_url: str, live_server: object
) -> Iterator[Page]:
    """A page whose window.ethereum forwards to anvil; a failing test leaves a screenshot behind."""
    marker = request.node.get_closest_marker("wallet")
    options = marker.kwargs if marker else {}
    context = browser.new_context()
    context.add_init_script(
        provider_script(
            rpc_url=anvil_rpc_url,
            account=options.get("account", TRADER),
            chain_id=options.get("chain_id", 31337),
        )
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        print(f"screenshot saved: {ARTIFACTS / (name + '.png')}")
    context.close()
