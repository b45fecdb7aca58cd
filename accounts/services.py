"""Sign-In with Ethereum: issue single-use nonces and turn a signed message into a logged-in user."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from eth_utils.address import to_checksum_address
from siwe import (
    DomainMismatch,
    ExpiredMessage,
    InvalidSignature,
    NotYetValidMessage,
    SiweMessage,
)

from .models import SiweNonce, User

# 128 bits of randomness, alphanumeric as EIP-4361 requires (token_hex gives [0-9a-f]).
NONCE_BYTES = 16


class SignInError(Exception):
    """A sign-in refused for a reason the person can act on; `field` names the part at fault."""

    def __init__(self, message: str, *, field: str = "message") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class SiweExpectations:
    domain: str
    uri_origin: str
    chain_id: int


def siwe_nonce_issue(*, session_key: str, now: datetime | None = None) -> SiweNonce:
    """Create a fresh nonce tied to this browser session; it lives SIWE_NONCE_TTL_S seconds."""
    now = now or timezone.now()
    return SiweNonce.objects.create(
        nonce=secrets.token_hex(NONCE_BYTES),
        session_key=session_key,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.SIWE_NONCE_TTL_S),
    )


def siwe_message_text(
    *,
    address: str,
    domain: str,
    uri: str,
    chain_id: int,
    nonce: str,
    issued_at: str,
    expiration_time: str,
    statement: str,
) -> str:
    """The EIP-4361 text for a checksummed address, as the wallet will show and sign it."""
    return (
        f"{domain} wants you to sign in with your Ethereum account:\n{address}\n\n{statement}\n\n"
        f"URI: {uri}\nVersion: 1\nChain ID: {chain_id}\nNonce: {nonce}\n"
        f"Issued At: {issued_at}\nExpiration Time: {expiration_time}"
    )


def _parse(message: str) -> SiweMessage:
    try:
        return SiweMessage.from_message(message=message)
    except Exception as exc:  # the library raises several parser types; all mean "not EIP-4361"
        raise SignInError(f"The message is not a valid Sign-In with Ethereum message ({exc}).") from exc


def _check_fields(parsed: SiweMessage, expect: SiweExpectations, now: datetime) -> None:
    if parsed.domain != expect.domain:
        raise SignInError(f"The message is for the site '{parsed.domain}', not '{expect.domain}'.")
    if not str(parsed.uri).startswith(expect.uri_origin):
        raise SignInError(f"The message names the address '{parsed.uri}', which is not this site.")
    if int(parsed.chain_id) != expect.chain_id:
        raise SignInError(
            f"The message is for chain {parsed.chain_id}; this site runs on chain {expect.chain_id}.",
            field="chain_id",
        )
    issued_at = datetime.fromisoformat(str(parsed.issued_at).replace("Z", "+00:00"))
    if issued_at > now + timedelta(seconds=60):
        raise SignInError("The message was issued in the future; check your computer's clock.")
    if issued_at < now - timedelta(seconds=settings.SIWE_MESSAGE_MAX_AGE_S):
        raise SignInError("The message is too old; sign in again.")


def siwe_login(*, message: str, signature: str, session_key: str, expect: SiweExpectations) -> User:
    """Verify a signed EIP-4361 message and return its user, creating it on first sign-in.

    The nonce row is locked and consumed in the same transaction, so a nonce works once even when
    two requests race; a failed attempt consumes it too, so a guessed signature cannot be retried.
    """
    now = timezone.now()
    parsed = _parse(message)
    problem: SignInError | None = None
    with transaction.atomic():
        nonce = SiweNonce.objects.select_for_update().filter(nonce=str(parsed.nonce)).first()
        if nonce is None:
            raise SignInError("This sign-in request is unknown; ask for a new one.", field="nonce")
        if nonce.used_at is not None:
            raise SignInError("This sign-in request was already used; ask for a new one.", field="nonce")
        nonce.used_at = now
        nonce.save(update_fields=["used_at"])
        if nonce.session_key != session_key:
            problem = SignInError("This sign-in request was issued to another browser session.", field="nonce")
        elif nonce.expires_at <= now:
            problem = SignInError("This sign-in request has expired; ask for a new one.", field="nonce")
    # Raised only after the commit above: a refused attempt must still burn its nonce.
    if problem is not None:
        raise problem
    _check_fields(parsed, expect, now)
    try:
        parsed.verify(signature, domain=expect.domain, nonce=nonce.nonce, timestamp=now)
    except ExpiredMessage as exc:
        raise SignInError("The signed message has expired; sign in again.") from exc
    except NotYetValidMessage as exc:
        raise SignInError("The signed message is not valid yet.") from exc
    except DomainMismatch as exc:
        raise SignInError("The message is for another site.") from exc
    except InvalidSignature as exc:
        raise SignInError("The signature does not match the address in the message.", field="signature") from exc
    except Exception as exc:  # malformed hex and similar: the signature field is at fault
        raise SignInError(f"The signature could not be checked ({type(exc).__name__}).", field="signature") from exc
    return user_get_or_create_for_address(address=str(parsed.address))


def user_get_or_create_for_address(*, address: str) -> User:
    checksummed = to_checksum_address(address)
    user, _ = User.objects.get_or_create(address=checksummed, defaults={"username": checksummed})
    return user
