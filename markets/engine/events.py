"""Events: the only outputs of the engine. Immutable, plain ints/strs, JSON codec.

Every event's first field is ``seq``: a global sequence number, strictly increasing across
the whole engine (all markets, all accounts), starting at 1.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .codec import Registry

__all__ = [
    "Rejected",
    "DepositCredited",
    "WithdrawalAuthorized",
    "WithdrawalExpired",
    "WithdrawalExecuted",
    "MarketLaunched",
    "MarketHalted",
    "OrderAccepted",
    "Trade",
    "OrderCancelled",
    "Event",
    "EVENT_TYPES",
    "to_dict",
    "from_dict",
]

_registry = Registry("event")


@_registry.register
class Rejected(NamedTuple):
    """The command was invalid; nothing but the sequence counter changed."""

    seq: int
    command: str  # the command's type name
    reason: str  # a RejectReason value
    detail: str  # human-readable explanation
    ref: str  # the command's idempotency/correlation key (client_id, deposit_id, ...) or ""

    @property
    def type(self) -> str:
        return "rejected"


@_registry.register
class DepositCredited(NamedTuple):
    seq: int
    deposit_id: str
    account: str
    asset: str
    amount: int

    @property
    def type(self) -> str:
        return "deposit_credited"


@_registry.register
class WithdrawalAuthorized(NamedTuple):
    """For the operator to sign: the vault pays ``amount`` to ``account``'s owner once per nonce."""

    seq: int
    withdrawal_id: str
    account: str
    asset: str
    amount: int
    nonce: int  # per account, 1, 2, 3, ...
    expiry_ts: int

    @property
    def type(self) -> str:
        return "withdrawal_authorized"


@_registry.register
class WithdrawalExpired(NamedTuple):
    seq: int
    withdrawal_id: str
    account: str
    asset: str
    amount: int  # re-credited to free balance

    @property
    def type(self) -> str:
        return "withdrawal_expired"


@_registry.register
class WithdrawalExecuted(NamedTuple):
    seq: int
    withdrawal_id: str
    account: str
    asset: str
    amount: int

    @property
    def type(self) -> str:
        return "withdrawal_executed"


@_registry.register
class MarketLaunched(NamedTuple):
    seq: int
    market_id: str
    kind: str
    base_asset: str
    quote_asset: str
    tick_size: int
    lot_size: int
    min_size: int
    maker_fee_bps: int
    taker_fee_bps: int
    deployer_fee_share_bps: int
    deployer: str
    deployer_fee_account: str
    insurance_account: str

    @property
    def type(self) -> str:
        return "market_launched"


@_registry.register
class MarketHalted(NamedTuple):
    seq: int
    market_id: str
    reason: str

    @property
    def type(self) -> str:
        return "market_halted"


@_registry.register
class OrderAccepted(NamedTuple):
    """The order passed validation and its funds are reserved; Trades/OrderCancelled may follow."""

    seq: int
    market_id: str
    order_id: int
    account: str
    client_id: str
    side: str
    order_type: str
    tif: str
    price: int
    size: int
    expiry_ts: int

    @property
    def type(self) -> str:
        return "order_accepted"


@_registry.register
class Trade(NamedTuple):
    """One fill between a resting (maker) and an incoming (taker) order, at the maker's price.

    Fees are in quote minor units; ``maker_fee`` < 0 is a rebate paid to the maker.
    ``*_remaining`` are the lots left on each order after this fill.
    """

    seq: int
    market_id: str
    trade_id: int
    price: int
    size: int
    taker_side: str
    taker_order_id: int
    taker_account: str
    maker_order_id: int
    maker_account: str
    taker_fee: int
    maker_fee: int
    taker_remaining: int
    maker_remaining: int

    @property
    def type(self) -> str:
        return "trade"


@_registry.register
class OrderCancelled(NamedTuple):
    """The order left the book (or never rested) with ``remaining`` lots unfilled; see CancelReason."""

    seq: int
    market_id: str
    order_id: int
    account: str
    remaining: int
    reason: str

    @property
    def type(self) -> str:
        return "order_cancelled"


Event = (
    Rejected
    | DepositCredited
    | WithdrawalAuthorized
    | WithdrawalExpired
    | WithdrawalExecuted
    | MarketLaunched
    | MarketHalted
    | OrderAccepted
    | Trade
    | OrderCancelled
)

EVENT_TYPES: dict[str, type[Any]] = dict(_registry.by_name)


def to_dict(event: Event) -> dict[str, Any]:
    """Event -> JSON-safe dict with a ``type`` key."""
    return _registry.to_dict(event)


def from_dict(data: dict[str, Any]) -> Event:
    """JSON-safe dict -> Event; raises CodecError on unknown type, unknown/missing field or wrong type."""
    result: Event = _registry.from_dict(data)
    return result
