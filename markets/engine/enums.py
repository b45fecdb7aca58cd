"""String constants and the reject-reason enum shared by commands, events and the engine.

Values are plain ``str`` so commands and events stay JSON-safe; the StrEnum members
compare equal to their values.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "Side",
    "OrderType",
    "TimeInForce",
    "SelfTradePrevention",
    "MarketKind",
    "MarketStatus",
    "CancelReason",
    "RejectReason",
    "WithdrawalStatus",
]


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"  # price field is the protection price; behaves as IOC (or FOK)


class TimeInForce(StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    POST_ONLY = "post_only"


class SelfTradePrevention(StrEnum):
    CANCEL_RESTING = "cancel_resting"  # cancel the resting (maker) order, keep matching
    CANCEL_TAKING = "cancel_taking"  # cancel what is left of the incoming order
    CANCEL_BOTH = "cancel_both"  # cancel the resting order and the rest of the incoming one


class MarketKind(StrEnum):
    SPOT = "spot"
    PERP = "perp"  # issue 14
    PREDICTION = "prediction"  # issue 13


class MarketStatus(StrEnum):
    ACTIVE = "active"
    HALTED = "halted"


class WithdrawalStatus(StrEnum):
    PENDING = "pending"
    EXPIRED = "expired"
    EXECUTED = "executed"


class CancelReason(StrEnum):
    """Why an order left the book without being fully filled (OrderCancelled.reason)."""

    USER = "user"  # CancelOrder
    CANCEL_ALL = "cancel_all"  # CancelAll
    IOC = "ioc"  # unfilled remainder of an IOC / market order
    SELF_TRADE = "self_trade"  # self-trade prevention
    EXPIRED = "expired"  # resting order met after its expiry_ts
    HALT = "halt"  # market halted


class RejectReason(StrEnum):
    """Why a command was rejected (Rejected.reason). The state is unchanged."""

    INVALID_COMMAND = "invalid_command"  # unknown command type / field of the wrong type
    INVALID_FIELD = "invalid_field"  # a field value outside its allowed set
    TIMESTAMP_REGRESSION = "timestamp_regression"
    UNKNOWN_MARKET = "unknown_market"
    MARKET_HALTED = "market_halted"
    DUPLICATE_MARKET_ID = "duplicate_market_id"
    BAD_MARKET_SPEC = "bad_market_spec"
    NOT_SUPPORTED = "not_supported"
    UNKNOWN_ACCOUNT = "unknown_account"
    SYSTEM_ACCOUNT = "system_account"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    INVALID_AMOUNT = "invalid_amount"
    DUPLICATE_DEPOSIT_ID = "duplicate_deposit_id"
    DUPLICATE_WITHDRAWAL_ID = "duplicate_withdrawal_id"
    UNKNOWN_WITHDRAWAL = "unknown_withdrawal"
    WITHDRAWAL_NOT_PENDING = "withdrawal_not_pending"
    WITHDRAWAL_NOT_EXPIRED = "withdrawal_not_expired"
    INVALID_PRICE = "invalid_price"
    INVALID_SIZE = "invalid_size"
    SIZE_BELOW_MINIMUM = "size_below_minimum"
    POST_ONLY_WOULD_CROSS = "post_only_would_cross"
    FOK_CANNOT_FILL = "fok_cannot_fill"
    EXPIRED = "expired"
    DUPLICATE_CLIENT_ID = "duplicate_client_id"
    UNKNOWN_ORDER = "unknown_order"
    NOT_YOUR_ORDER = "not_your_order"
