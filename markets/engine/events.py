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
    "PredictionMarketLaunched",
    "PredictionOrderAccepted",
    "PredictionTrade",
    "SharesSplit",
    "SharesMerged",
    "NoConverted",
    "OutcomeAdded",
    "ResolutionProposed",
    "Disputed",
    "DisputeDecided",
    "Payout",
    "ResolutionFinal",
    "SubaccountTransferred",
    "PerpMarketLaunched",
    "RiskClassChanged",
    "GovernanceCaseUpdated",
    "PositionChanged",
    "PnlRealized",
    "MarginModeSet",
    "IsolatedMarginAdjusted",
    "OraclePriceSet",
    "OracleGuard",
    "FundingPayment",
    "FundingSettled",
    "PositionSettled",
    "MarketResumed",
    "AllowlistChanged",
    "LiquidationStarted",
    "LiquidationStep",
    "InsuranceCovered",
    "Deleveraged",
    "LiquidationFinished",
    "TriggerPlaced",
    "TriggerFired",
    "TriggerCancelled",
    "OrdersExpired",
    "FeesClaimed",
    "HaltHaircut",
    "HaltDebtCovered",
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


@_registry.register
class PredictionMarketLaunched(NamedTuple):
    """Follows MarketLaunched for kind="prediction": the prediction part of the spec and derived ids."""

    seq: int
    market_id: str
    collateral_asset: str
    yes_asset: str
    no_asset: str
    share_unit: int  # collateral minor units one share pays at a YES resolution (= lot_size)
    max_price: int  # ticks worth one share unit; prices are strictly between 0 and this
    close_ts: int
    resolver: str
    dispute_window_ms: int
    dispute_bond: int
    invalid_split_bps: int
    group_id: str
    group_size: int
    outcome: str
    add_outcome_rule: str
    pool_id: str  # what is resolved: the market id, or the group id
    collateral_account: str  # holds the collateral of every complete set of the pool

    @property
    def type(self) -> str:
        return "prediction_market_launched"


@_registry.register
class PredictionOrderAccepted(NamedTuple):
    """A prediction order was accepted. ``side``/``price`` are in the order's own outcome;
    ``book_side``/``book_price`` are where it sits in the market's YES book."""

    seq: int
    market_id: str
    order_id: int
    account: str
    client_id: str
    outcome: str
    side: str
    order_type: str
    tif: str
    price: int
    size: int
    expiry_ts: int
    book_side: str
    book_price: int

    @property
    def type(self) -> str:
        return "prediction_order_accepted"


@_registry.register
class PredictionTrade(NamedTuple):
    """One prediction fill at the maker's YES-book price ``book_price``.

    Each party's ``*_price`` is in its own outcome (YES: book_price; NO: max_price - book_price).
    ``settlement`` is transfer, mint or burn (see Settlement). Fees are in collateral.
    """

    seq: int
    market_id: str
    trade_id: int
    book_price: int
    size: int
    settlement: str
    taker_order_id: int
    taker_account: str
    taker_outcome: str
    taker_side: str
    taker_price: int
    maker_order_id: int
    maker_account: str
    maker_outcome: str
    maker_side: str
    maker_price: int
    taker_fee: int
    maker_fee: int
    taker_remaining: int
    maker_remaining: int

    @property
    def type(self) -> str:
        return "prediction_trade"


@_registry.register
class SharesSplit(NamedTuple):
    seq: int
    market_id: str
    account: str
    amount: int  # YES and NO shares minted each
    collateral: int  # collateral minor units locked

    @property
    def type(self) -> str:
        return "shares_split"


@_registry.register
class SharesMerged(NamedTuple):
    seq: int
    market_id: str
    account: str
    amount: int  # YES and NO shares burned each
    collateral: int  # collateral minor units released

    @property
    def type(self) -> str:
        return "shares_merged"


@_registry.register
class NoConverted(NamedTuple):
    seq: int
    group_id: str
    account: str
    no_markets: str  # comma-separated, as given
    yes_markets: str  # comma-separated, the group's other members in group order
    amount: int
    collateral: int  # collateral minor units released: (k - 1) * amount * share unit

    @property
    def type(self) -> str:
        return "no_converted"


@_registry.register
class OutcomeAdded(NamedTuple):
    """Follows the new market's MarketLaunched / PredictionMarketLaunched."""

    seq: int
    group_id: str
    market_id: str
    outcome: str
    carved_from: str  # the group's "other" market
    group_size: int

    @property
    def type(self) -> str:
        return "outcome_added"


@_registry.register
class ResolutionProposed(NamedTuple):
    seq: int
    market_id: str  # market or group id
    resolver: str
    outcome: str
    dispute_deadline: int  # disputes are accepted while ts < this

    @property
    def type(self) -> str:
        return "resolution_proposed"


@_registry.register
class Disputed(NamedTuple):
    """A proposal was disputed: governance turns this into a case. Payouts are frozen."""

    seq: int
    market_id: str  # market or group id
    proposed_outcome: str
    resolver: str
    disputer: str
    bond: int
    bond_asset: str
    proposed_ts: int

    @property
    def type(self) -> str:
        return "disputed"


@_registry.register
class DisputeDecided(NamedTuple):
    seq: int
    market_id: str
    case_id: str
    proposed_outcome: str
    outcome: str  # the committee's (final) outcome
    upheld: bool  # the dispute was right: the outcome was replaced and the bond returned
    disputer: str
    bond: int
    bond_to: str  # the disputer (upheld) or the market's insurance fund

    @property
    def type(self) -> str:
        return "dispute_decided"


@_registry.register
class Payout(NamedTuple):
    """Credit of one holder at final resolution (all its shares of the pool, rounded down)."""

    seq: int
    market_id: str  # market or group id
    account: str
    amount: int

    @property
    def type(self) -> str:
        return "payout"


@_registry.register
class ResolutionFinal(NamedTuple):
    """The pool is resolved: payouts + dust == collateral the pool held, to the minor unit."""

    seq: int
    market_id: str  # market or group id
    outcome: str
    collateral: int  # what the pool held
    paid: int  # sum of Payout amounts
    dust: int  # rounding remainder, credited to the insurance fund
    insurance_account: str

    @property
    def type(self) -> str:
        return "resolution_final"


@_registry.register
class SubaccountTransferred(NamedTuple):
    seq: int
    account: str
    to_account: str
    asset: str
    amount: int

    @property
    def type(self) -> str:
        return "subaccount_transferred"


@_registry.register
class PerpMarketLaunched(NamedTuple):
    """Follows MarketLaunched for kind="perp": the perp part of the spec. Every perp starts isolated-only."""

    seq: int
    market_id: str
    collateral_asset: str
    margin_tiers: str
    collateral_weight_bps: int
    oracle_source: str
    oi_cap: int
    account_oi_cap: int
    access: str
    bond: int
    risk_class: str

    @property
    def type(self) -> str:
        return "perp_market_launched"


@_registry.register
class RiskClassChanged(NamedTuple):
    seq: int
    market_id: str
    risk_class: str
    previous: str
    by: str  # "graduation" | "governance"
    case_id: str

    @property
    def type(self) -> str:
        return "risk_class_changed"


@_registry.register
class GovernanceCaseUpdated(NamedTuple):
    seq: int
    market_id: str
    case_id: str
    status: str  # "open" | "closed"
    open_cases: int  # open cases about the market after this change

    @property
    def type(self) -> str:
        return "governance_case_updated"


@_registry.register
class PositionChanged(NamedTuple):
    """A perp fill changed a position. ``cash`` is the position's signed quote balance (see docs)."""

    seq: int
    market_id: str
    account: str
    size: int
    cash: int
    mode: str
    margin: int

    @property
    def type(self) -> str:
        return "position_changed"


@_registry.register
class PnlRealized(NamedTuple):
    """A position became flat: its cash (and isolated margin) went to the ledger; ``debt`` stayed."""

    seq: int
    market_id: str
    account: str
    amount: int
    debt: int

    @property
    def type(self) -> str:
        return "pnl_realized"


@_registry.register
class MarginModeSet(NamedTuple):
    seq: int
    market_id: str
    account: str
    mode: str

    @property
    def type(self) -> str:
        return "margin_mode_set"


@_registry.register
class IsolatedMarginAdjusted(NamedTuple):
    seq: int
    market_id: str
    account: str
    amount: int
    margin: int

    @property
    def type(self) -> str:
        return "isolated_margin_adjusted"


@_registry.register
class OraclePriceSet(NamedTuple):
    """``price`` is what the oracle now is; ``pushed`` what came in (they differ when clamped)."""

    seq: int
    market_id: str
    price: int
    pushed: int
    clamped: bool

    @property
    def type(self) -> str:
        return "oracle_price_set"


@_registry.register
class OracleGuard(NamedTuple):
    """Detector event: the market's oracle is in doubt (``clamped`` or ``stale``); liquidations pause."""

    seq: int
    market_id: str
    reason: str
    detail: str

    @property
    def type(self) -> str:
        return "oracle_guard"


@_registry.register
class FundingPayment(NamedTuple):
    """One position's funding: ``amount`` > 0 paid, < 0 received."""

    seq: int
    market_id: str
    account: str
    amount: int

    @property
    def type(self) -> str:
        return "funding_payment"


@_registry.register
class FundingSettled(NamedTuple):
    """``paid`` − ``received`` (≥ 0, the rounding remainder) went to the insurance fund."""

    seq: int
    market_id: str
    rate_bps: int
    mark: int
    oracle: int
    paid: int
    received: int
    to_insurance: int

    @property
    def type(self) -> str:
        return "funding_settled"


@_registry.register
class PositionSettled(NamedTuple):
    """Halt: the position was closed at ``price``, the mark at the halt."""

    seq: int
    market_id: str
    account: str
    size: int
    price: int

    @property
    def type(self) -> str:
        return "position_settled"


@_registry.register
class MarketResumed(NamedTuple):
    seq: int
    market_id: str

    @property
    def type(self) -> str:
        return "market_resumed"


@_registry.register
class AllowlistChanged(NamedTuple):
    seq: int
    market_id: str
    wallet: str
    allowed: bool

    @property
    def type(self) -> str:
        return "allowlist_changed"


@_registry.register
class LiquidationStarted(NamedTuple):
    """``market_id`` "" is a cross domain."""

    seq: int
    account: str
    market_id: str
    equity: int
    maintenance: int

    @property
    def type(self) -> str:
        return "liquidation_started"


@_registry.register
class LiquidationStep(NamedTuple):
    """One bounded IOC step: ``size`` lots closed (signed: > 0 bought), ``fee`` to the insurance fund."""

    seq: int
    account: str
    market_id: str
    size: int
    fee: int

    @property
    def type(self) -> str:
        return "liquidation_step"


@_registry.register
class InsuranceCovered(NamedTuple):
    """The market's insurance fund paid ``amount`` of a liquidated record's debt."""

    seq: int
    market_id: str
    account: str
    amount: int

    @property
    def type(self) -> str:
        return "insurance_covered"


@_registry.register
class Deleveraged(NamedTuple):
    """ADL: ``amount`` of ``account``'s profit in the market went to cover ``debtor``'s shortfall."""

    seq: int
    market_id: str
    account: str
    debtor: str
    amount: int

    @property
    def type(self) -> str:
        return "deleveraged"


@_registry.register
class LiquidationFinished(NamedTuple):
    """``restored``: back at or above maintenance; ``debt``: shortfall nobody covered."""

    seq: int
    account: str
    market_id: str
    equity: int
    maintenance: int
    restored: bool
    debt: int

    @property
    def type(self) -> str:
        return "liquidation_finished"


@_registry.register
class TriggerPlaced(NamedTuple):
    """``oco_id``: the id of the TP or SL this one cancels when either fires (0 = none)."""

    seq: int
    trigger_id: int
    market_id: str
    account: str
    kind: str
    side: str
    trigger_price: int
    price: int
    size: int
    oco_id: int

    @property
    def type(self) -> str:
        return "trigger_placed"


@_registry.register
class TriggerFired(NamedTuple):
    """The order it places follows (its OrderAccepted, Trades, ...)."""

    seq: int
    trigger_id: int
    market_id: str
    mark: int

    @property
    def type(self) -> str:
        return "trigger_fired"


@_registry.register
class TriggersPending(NamedTuple):
    """A ``TriggerTick`` used all ``max_trigger_rounds`` rounds and ``mark`` (after the last round's
    fills) still reaches triggers of the market: send another ``TriggerTick`` now."""

    seq: int
    market_id: str
    mark: int
    rounds: int

    @property
    def type(self) -> str:
        return "triggers_pending"


@_registry.register
class TriggerCancelled(NamedTuple):
    """``reason``: ``user``, ``oco``, ``flat`` (no position left) or the order's reject reason."""

    seq: int
    trigger_id: int
    market_id: str
    account: str
    reason: str

    @property
    def type(self) -> str:
        return "trigger_cancelled"


@_registry.register
class OrdersExpired(NamedTuple):
    """ExpireOrders removed ``expired`` orders (each has its OrderCancelled before this); ``more``:
    expired orders are still resting, beyond the command's limit."""

    seq: int
    market_id: str
    expired: int
    more: bool

    @property
    def type(self) -> str:
        return "orders_expired"


@_registry.register
class FeesClaimed(NamedTuple):
    """``amount`` of ``asset`` moved from the fee account ``account`` to ``to_account``'s free balance."""

    seq: int
    account: str
    to_account: str
    asset: str
    amount: int
    claimant: str

    @property
    def type(self) -> str:
        return "fees_claimed"


@_registry.register
class HaltHaircut(NamedTuple):
    """Halt: ``amount`` of the winner's settlement ``profit`` went to cover losers' debt in the market."""

    seq: int
    market_id: str
    account: str
    profit: int
    amount: int

    @property
    def type(self) -> str:
        return "halt_haircut"


@_registry.register
class HaltDebtCovered(NamedTuple):
    """Halt: the losers' ``debt`` in the market, paid ``from_insurance`` and ``from_winners``; ``debt_left`` stays."""

    seq: int
    market_id: str
    debt: int
    from_insurance: int
    from_winners: int
    debt_left: int

    @property
    def type(self) -> str:
        return "halt_debt_covered"


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
    | PredictionMarketLaunched
    | PredictionOrderAccepted
    | PredictionTrade
    | SharesSplit
    | SharesMerged
    | NoConverted
    | OutcomeAdded
    | ResolutionProposed
    | Disputed
    | DisputeDecided
    | Payout
    | ResolutionFinal
    | SubaccountTransferred
    | PerpMarketLaunched
    | RiskClassChanged
    | GovernanceCaseUpdated
    | PositionChanged
    | PnlRealized
    | MarginModeSet
    | IsolatedMarginAdjusted
    | OraclePriceSet
    | OracleGuard
    | FundingPayment
    | FundingSettled
    | PositionSettled
    | MarketResumed
    | AllowlistChanged
    | LiquidationStarted
    | LiquidationStep
    | InsuranceCovered
    | Deleveraged
    | LiquidationFinished
    | TriggerPlaced
    | TriggerFired
    | TriggerCancelled
    | OrdersExpired
    | FeesClaimed
    | HaltHaircut
    | HaltDebtCovered
)

EVENT_TYPES: dict[str, type[Any]] = dict(_registry.by_name)


def to_dict(event: Event) -> dict[str, Any]:
    """Event -> JSON-safe dict with a ``type`` key."""
    return _registry.to_dict(event)


def from_dict(data: dict[str, Any]) -> Event:
    """JSON-safe dict -> Event; raises CodecError on unknown type, unknown/missing field or wrong type."""
    result: Event = _registry.from_dict(data)
    return result
