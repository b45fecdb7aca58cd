"""Sign-In with Ethereum over the API: the happy path and every way a sign-in must be refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from eth_account import Account
from eth_account.messages import encode_defunct

from accounts.models import SiweNonce, User
from accounts.services import siwe_message_text

pytestmark = pytest.mark.django_db

ALICE = Account.from_key("0x" + "11" * 32)
MALLORY = Account.from_key("0x" + "22" * 32)
ISO = "%Y-%m-%dT%H:%M:%S.000Z"


def start(client: Client, address: str = ALICE.address) -> dict:
    response = client.post("/api/auth/nonce", {"address": address}, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def sign(text: str, account=ALICE) -> str:
    return "0x" + account.sign_message(encode_defunct(text=text)).signature.hex().removeprefix("0x")


def message(fields: dict, **changes: object) -> str:
    base = {
        "address": ALICE.address,
        "domain": fields["domain"],
        "uri": fields["uri"],
        "chain_id": fields["chain_id"],
        "nonce": fields["nonce"],
        "issued_at": fields["issued_at"],
        "expiration_time": fields["expiration_time"],
        "statement": fields["statement"],
    }
    base.update(changes)
    return siwe_message_text(**base)  # type: ignore[arg-type]


def login(client: Client, text: str, signature: str):
    return client.post("/api/auth/login", {"message": text, "signature": signature}, content_type="application/json")


def whoami(client: Client) -> dict:
    return client.get("/api/auth/me").json()


def test_sign_in_creates_one_user_per_checksummed_address() -> None:
    client = Client()
    fields = start(client)
    assert len(fields["nonce"]) * 4 >= 96
    assert fields["chain_id"] == 31337
    response = login(client, fields["message"], sign(fields["message"]))
    assert response.status_code == 200, response.content
    assert response.json() == {"address": ALICE.address}
    assert whoami(client) == {"authenticated": True, "address": ALICE.address}

    # a second sign-in from a fresh browser reuses the same user
    other = Client()
    fields = start(other, ALICE.address.lower())
    assert ALICE.address in fields["message"]
    assert login(other, fields["message"], sign(fields["message"])).status_code == 200
    assert User.objects.filter(address=ALICE.address).count() == 1


def test_logout_ends_the_session() -> None:
    client = Client()
    fields = start(client)
    login(client, fields["message"], sign(fields["message"]))
    assert client.post("/api/auth/logout").status_code == 204
    assert whoami(client) == {"authenticated": False, "address": None}


def assert_refused(response, field: str, words: str, client: Client) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert words in body["error"], body
    assert field in body["fields"], body
    assert whoami(client)["authenticated"] is False


def test_a_nonce_works_once() -> None:
    client = Client()
    fields = start(client)
    assert login(client, fields["message"], sign(fields["message"])).status_code == 200
    client.post("/api/auth/logout")
    assert_refused(login(client, fields["message"], sign(fields["message"])), "nonce", "already used", client)


def test_a_refused_attempt_burns_the_nonce() -> None:
    client = Client()
    fields = start(client)
    assert login(client, fields["message"], sign(fields["message"], MALLORY)).status_code == 400
    assert_refused(login(client, fields["message"], sign(fields["message"])), "nonce", "already used", client)


def test_a_nonce_issued_to_another_session_is_refused() -> None:
    victim, attacker = Client(), Client()
    fields = start(victim)
    assert_refused(
        login(attacker, fields["message"], sign(fields["message"])), "nonce", "another browser session", attacker
    )


def test_an_unknown_nonce_is_refused() -> None:
    client = Client()
    fields = start(client)
    text = message(fields, nonce="deadbeefdeadbeefdeadbeef")
    assert_refused(login(client, text, sign(text)), "nonce", "unknown", client)


def test_a_message_for_another_domain_is_refused() -> None:
    client = Client()
    fields = start(client)
    text = message(fields, domain="evil.example")
    assert_refused(login(client, text, sign(text)), "message", "evil.example", client)


def test_a_message_for_another_chain_is_refused() -> None:
    client = Client()
    fields = start(client)
    text = message(fields, chain_id=1)
    assert_refused(login(client, text, sign(text)), "chain_id", "chain 1", client)


def test_an_expired_message_is_refused() -> None:
    client = Client()
    fields = start(client)
    past = timezone.now() - timedelta(seconds=30)
    text = message(fields, issued_at=(past - timedelta(seconds=60)).strftime(ISO), expiration_time=past.strftime(ISO))
    assert_refused(login(client, text, sign(text)), "message", "expired", client)


def test_an_expired_nonce_is_refused() -> None:
    client = Client()
    fields = start(client)
    SiweNonce.objects.filter(nonce=fields["nonce"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_refused(login(client, fields["message"], sign(fields["message"])), "nonce", "expired", client)


def test_a_signature_from_another_address_is_refused() -> None:
    client = Client()
    fields = start(client)
    assert_refused(
        login(client, fields["message"], sign(fields["message"], MALLORY)), "signature", "does not match", client
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"message": "hello", "signature": "0x" + "00" * 65}, "message"),
        ({"message": "x", "signature": "not-hex"}, "signature"),
        ({"signature": "0x" + "00" * 65}, "message"),
    ],
)
def test_malformed_input_gets_a_field_reason(payload: dict, field: str) -> None:
    client = Client()
    start(client)
    response = client.post("/api/auth/login", payload, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert whoami(client)["authenticated"] is False


def test_nonce_needs_an_address() -> None:
    response = Client().post("/api/auth/nonce", {"address": "0x123"}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["fields"]["address"] == ["Expected a 20-byte hex address (0x…)."]
