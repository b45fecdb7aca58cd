"""Wallet-backed users and the single-use nonces of Sign-In with Ethereum."""

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """One user per checksummed wallet address; staff without a wallet keep a password login."""

    address = models.CharField(max_length=42, unique=True, null=True, blank=True)

    def __str__(self) -> str:
        return self.address or self.username


class SiweNonce(models.Model):
    """A nonce bound to the browser session that asked for it; consumed by the first sign-in attempt."""

    nonce = models.CharField(max_length=64, unique=True)
    session_key = models.CharField(max_length=40, db_index=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return self.nonce
