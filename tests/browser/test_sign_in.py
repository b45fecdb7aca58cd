"""End to end in Chromium: connect the wallet, sign in with Ethereum, see the address, log out."""

import pytest
from playwright.sync_api import Page, expect

from .conftest import TRADER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_connect_sign_in_and_log_out(wallet_page: Page, live_server) -> None:
    # given a visitor with a wallet on the right chain
    wallet_page.goto(live_server.url)
    expect(wallet_page.get_by_role("button", name="Connect wallet")).to_be_visible()

    # when they connect and sign the SIWE message
    wallet_page.get_by_role("button", name="Connect wallet").click()

    # then the page shows their checksummed address, and the session knows them
    expect(wallet_page.locator("#connected-address")).to_have_text(TRADER)
    expect(wallet_page.get_by_test_id("signed-in-address")).to_have_text(TRADER)
    assert wallet_page.request.get(f"{live_server.url}/api/auth/me").json() == {
        "authenticated": True,
        "address": TRADER,
    }

    # when they log out, the connect button is back and the address is gone
    wallet_page.get_by_role("button", name="Log out").click()
    expect(wallet_page.get_by_role("button", name="Connect wallet")).to_be_visible()
    expect(wallet_page.locator("#connected-address")).to_have_count(0)
    assert wallet_page.request.get(f"{live_server.url}/api/auth/me").json()["authenticated"] is False


def test_rejecting_the_signature_says_so_and_stays_signed_out(wallet_page: Page, live_server) -> None:
    wallet_page.goto(live_server.url)
    wallet_page.evaluate("window.__testWallet.rejectNext = false")
    # The first interactive call (connect) goes through; reject the signature that follows.
    wallet_page.evaluate(
        """() => {
          const original = window.ethereum.request.bind(window.ethereum);
          window.ethereum.request = async (args) => {
            if (args.method === "personal_sign") window.__testWallet.rejectNext = true;
            return original(args);
          };
        }"""
    )
    wallet_page.get_by_role("button", name="Connect wallet").click()
    expect(wallet_page.locator("#wallet-message")).to_have_text("You cancelled the request in your wallet.")
    expect(wallet_page.get_by_role("button", name="Connect wallet")).to_be_enabled()
    wallet_page.reload()
    expect(wallet_page.locator("#connected-address")).to_have_count(0)


@pytest.mark.wallet(chain_id=1)
def test_wrong_chain_shows_a_warning_and_switch_fixes_it(wallet_page: Page, live_server) -> None:
    # given a wallet on mainnet while the site runs on the local chain
    wallet_page.goto(live_server.url)
    warning = wallet_page.locator("#wrong-chain")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("chain 31337")

    # when the user presses the switch button, the wallet moves and the warning goes away
    wallet_page.get_by_role("button", name="Switch network").click()
    expect(warning).to_be_hidden()
    assert wallet_page.evaluate("window.ethereum.request({method: 'eth_chainId'})") == "0x7a69"


def test_no_wallet_gets_a_clear_message(browser, live_server) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(live_server.url)
        page.get_by_role("button", name="Connect wallet").click()
        expect(page.locator("#wallet-message")).to_contain_text("No wallet found")
    finally:
        context.close()
