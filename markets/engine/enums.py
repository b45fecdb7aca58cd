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
    "Outcome",
    "Settlement",
    "ResolutionStatus",
    "RiskClass",
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
    MARKET_CLOSED = "market_closed"  # prediction market: resolution proposed, the book is cleared
    LIQUIDATION = "liquidation"  # perp: the domain is being liquidated (issue 14)


class Outcome(StrEnum):
    """Which share an order trades (PlaceOrder.outcome), and binary resolution values."""

    YES = "yes"
    NO = "no"
    INVALID = "invalid"  # resolution only: every share pays the spec's fixed split


class Settlement(StrEnum):
    """How a prediction fill moved shares (PredictionTrade.settlement)."""

    TRANSFER = "transfer"  # a buyer and a seller of the same outcome: shares move for collateral
    MINT = "mint"  # a YES buyer and a NO buyer: a complete set is minted, each pays its price
    BURN = "burn"  # a YES seller and a NO seller: a complete set is burned, each is paid its price


class ResolutionStatus(StrEnum):
    OPEN = "open"  # no proposal yet
    PROPOSED = "proposed"  # in the dispute window
    DISPUTED = "disputed"  # waiting for the committee; payouts frozen
    FINAL = "final"  # paid out


class RiskClass(StrEnum):
    """How a perp market may be margined (issue 14)."""

    ISOLATED_ONLY = "isolated_only"  # every launch starts here: positions only in isolated mode
    CROSS_ELIGIBLE = "cross_eligible"  # graduated: positions may share the domain's collateral


class RejectReason(StrEnum):
    """Why a command was rejected (Rejected.reason). The state is unchanged."""

    INVALID_COMMAND = "invalid_command"  # unknown command type / field of the wrong type
    INVALID_FIELD = "invalid_field"  # a field value outside its allowed set
    TIMESTAMP_REGRESSION = "timestamp_regression"
    UNKNOWN_MARKET = "unknown_market"
    MARKET_HALTED = "market_halted"
    DUPLICATE_MARKET_ID = "duplicate_market_id"
    BAD_MARKET_SPEC = "bad_market_spec"
    BOND_TOO_LOW = "bond_too_low"  # LaunchMarket with a bond below the kind's minimum (and never 0)
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
    FEE_OWNER_MISMATCH = "fee_owner_mismatch"  # ClaimFees by anyone but the fee account's deployer (or governance)
    # prediction markets (issue 13)
    MARKET_CLOSED = "market_closed"  # trading, or splitting, at or after close_ts
    MARKET_RESOLVED = "market_resolved"  # the market's resolution is final
    MARKET_NOT_CLOSED = "market_not_closed"  # proposing a resolution before close_ts
    NOT_RESOLVER = "not_resolver"  # only the spec's resolver may propose
    NOT_DEPLOYER = "not_deployer"  # only the group's deployer may add an outcome
    ALREADY_PROPOSED = "already_proposed"
    NOT_PROPOSED = "not_proposed"  # dispute / finalize without a proposal
    DISPUTE_WINDOW_CLOSED = "dispute_window_closed"
    DISPUTE_WINDOW_OPEN = "dispute_window_open"  # finalize before the window ended
    ALREADY_DISPUTED = "already_disputed"
    ALREADY_DECIDED = "already_decided"  # the committee decided; no second dispute
    NOT_DISPUTED = "not_disputed"  # a governance decision without a dispute
    RESOLUTION_DISPUTED = "resolution_disputed"  # finalize while a dispute awaits the committee
    INSUFFICIENT_SHARES = "insufficient_shares"  # selling, merging or converting shares not held
    UNKNOWN_GROUP = "unknown_group"
    GROUP_NOT_FORMED = "group_not_formed"  # conversion before all group_size outcomes exist
    GROUP_FORMED = "group_formed"  # launching into a group that is complete (use AddOutcome)
    OUTCOME_NOT_ALLOWED = "outcome_not_allowed"  # AddOutcome against the group's rule
    # accounts and perps (issue 14)
    INVALID_ACCOUNT = "invalid_account"  # not "<address>" or "<address>:<n>" with 1 <= n <= max
    OWNER_MISMATCH = "owner_mismatch"  # a sub-account transfer between two wallets, or to itself
    PERP_ONLY = "perp_only"  # a perp-only command on a spot or prediction market
    INSUFFICIENT_MARGIN = "insufficient_margin"  # free collateral does not cover the worst case
    OI_CAP_EXCEEDED = "oi_cap_exceeded"  # the market's or the domain's open-interest cap
    REDUCE_ONLY_WOULD_INCREASE = "reduce_only_would_increase"  # a reduce-only order that does not reduce
    ISOLATED_ONLY = "isolated_only"  # cross margin in a market that has not graduated
    POSITION_OPEN = "position_open"  # changing the margin mode with a position, margin or orders
    MARGIN_MODE_MISMATCH = "margin_mode_mismatch"  # isolated margin for a cross position
    ORACLE_TOO_SOON = "oracle_too_soon"  # a push within oracle_min_interval_ms of the last
    ORACLE_SOURCE_MISMATCH = "oracle_source_mismatch"  # not the source the spec names
    FUNDING_NOT_DUE = "funding_not_due"  # a funding tick before the interval is over
    HALT_REQUIRED = "halt_required"  # resuming a market that is not halted
    ACCESS_DENIED = "access_denied"  # the market's allowlist does not hold the wallet (reducing is always allowed)
    ABOVE_MAINTENANCE = "above_maintenance"  # Liquidate on a domain that meets maintenance
    LIQUIDATION_PAUSED = "liquidation_paused"  # the market's oracle is stale or its last push was clamped
