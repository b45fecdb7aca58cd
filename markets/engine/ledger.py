"""The ledger's records: an account, and its entry per asset (``Balance``: free and reserved)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from mypy_extensions import mypyc_attr

if TYPE_CHECKING:
    from .book import Order

__all__ = ["Account", "Balance", "SYSTEM_PREFIX"]

SYSTEM_PREFIX: Final = "sys:"


# An entry is two ints: no reference cycle can pass through it, so the compiled build leaves it
# out of the cycle collector (as it does Order; runtime.py). Compiled, each field is a machine
# word while it fits 62 bits, so changing a balance allocates nothing.
@mypyc_attr(acyclic=True)
class Balance:
    """One account's amounts of one asset: ``free`` to spend, ``reserved`` held by resting orders."""

    __slots__ = ("free", "reserved")

    def __init__(self, free: int = 0, reserved: int = 0) -> None:
        self.free = free
        self.reserved = reserved


class Account:
    """Ledger entries and live orders of one ledger account (trader or system).

    ``bal`` maps an asset to its entry. An entry, once made, stays (a prediction payout
    removes the share entries it pays out); the snapshot lists every entry, zero or not.
    """

    __slots__ = ("account_id", "bal", "orders", "client_ids", "live_client", "withdraw_nonce", "system")

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.bal: dict[str, Balance] = {}
        self.orders: dict[int, Order] = {}  # live (resting) orders
        self.client_ids: set[str] = set()  # every client id ever accepted
        self.live_client: dict[str, int] = {}  # client id -> order id, resting orders only
        self.withdraw_nonce = 0
        self.system = account_id.startswith(SYSTEM_PREFIX)

    def entry(self, asset: str) -> Balance:
        """The entry for ``asset``, made empty if there is none yet.

        ``asset`` should be the interned name (Engine interns every asset name it keys the
        ledger by), so that later lookups match the key by identity.
        """
        b = self.bal.get(asset)
        if b is None:
            b = self.bal[asset] = Balance()
        return b

    def free_of(self, asset: str) -> int:
        """Free amount of ``asset`` (0 without an entry)."""
        b = self.bal.get(asset)
        return 0 if b is None else b.free

    def held(self, asset: str) -> int:
        """Free plus reserved amount of ``asset`` (0 without an entry)."""
        b = self.bal.get(asset)
        return 0 if b is None else b.free + b.reserved
