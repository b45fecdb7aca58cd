"""Wallet identity, Sign-In with Ethereum and (later) the unified account pages."""
