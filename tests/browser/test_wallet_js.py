"""wallet.js in the browser against anvil: typed-data signatures, prepared transactions, receipts."""

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from playwright.sync_api import Page

from .conftest import TRADER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TYPED = {
    "types": {
        "EIP712Domain": [
            {"name": "name", "type": "string"},
            {"name": "version", "type": "string"},
            {"name": "chainId", "type": "uint256"},
            {"name": "verifyingContract", "type": "address"},
        ],
        "Order": [
            {"name": "market", "type": "string"},
            {"name": "size", "type": "uint256"},
            {"name": "nonce", "type": "uint256"},
        ],
    },
    "primaryType": "Order",
    "domain": {
        "name": "Exchange OS",
        "version": "1",
        "chainId": 31337,
        "verifyingContract": "0x000000000000000000000000000000000000dEaD",
    },
    "message": {"market": "ETH-USD", "size": 5, "nonce": 1},
}


def load_wallet(page: Page, url: str) -> None:
    page.goto(url)
    page.evaluate("async () => { window.W = await import('/static/js/wallet.js'); }")


def test_typed_data_signature_recovers_to_the_signer(wallet_page: Page, live_server) -> None:
    load_wallet(wallet_page, live_server.url)
    signature = wallet_page.evaluate(
        "async (typed) => { const a = await W.connect(); return W.signTypedData(a, typed); }", TYPED
    )
    signable = encode_typed_data(full_message=TYPED)
    assert Account.recover_message(signable, signature=signature) == TRADER


def test_prepared_transaction_is_sent_and_its_receipt_awaited(wallet_page: Page, live_server, chain_snapshot) -> None:
    load_wallet(wallet_page, live_server.url)
    receipt = wallet_page.evaluate(
        """async () => {
          const from = await W.connect();
          const hash = await W.sendTransaction(from, {to: "0x000000000000000000000000000000000000dEaD",
                                                       data: "0x", value: "0x1"});
          const ticks = [];
          const receipt = await W.waitForReceipt(hash, {intervalMs: 100, onTick: (ms) => ticks.push(ms)});
          return {hash, status: receipt.status, to: receipt.to};
        }"""
    )
    assert receipt["status"] == "0x1"
    assert receipt["to"].lower() == "0x000000000000000000000000000000000000dead"
    assert receipt["hash"].startswith("0x") and len(receipt["hash"]) == 66


def test_rejected_transaction_gives_the_users_words(wallet_page: Page, live_server) -> None:
    load_wallet(wallet_page, live_server.url)
    message = wallet_page.evaluate(
        """async () => {
          const from = await W.connect();
          window.__testWallet.rejectNext = true;
          try { await W.sendTransaction(from, {to: from, data: "0x"}); return "sent"; }
          catch (err) { return `${err.name}: ${err.code}: ${err.message}`; }
        }"""
    )
    assert message == "WalletError: rejected: You cancelled the request in your wallet."
