"""Commands: the only inputs of the engine. Immutable, plain ints/strs/bools, JSON codec.

Every command carries ``ts``: the sequencer's timestamp in milliseconds. The engine never
reads a clock; expiry checks use ``ts``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .codec import Registry

__all__ = [
    "DepositCredit",
    "WithdrawRequest",
    "WithdrawExpire",
    "WithdrawExecuted",
    "LaunchMarket",
    "HaltMarket",
    "PlaceOrder",
    "CancelOrder",
    "CancelAll",
    "Split",
    "Merge",
    "ConvertNo",
    "AddOutcome",
    "ProposeResolution",
    "Dispute",
    "GovernanceDecision",
    "FinalizeResolution",
    "SubaccountTransfer",
    "GraduationTick",
    "SetRiskClass",
    "GovernanceCase",
    "SetMarginMode",
    "AdjustIsolatedMargin",
    "OraclePrice",
    "FundingTick",
    "ResumeMarket",
    "SetAllowlist",
    "Liquidate",
    "PlaceTrigger",
    "CancelTrigger",
    "TriggerTick",
    "ExpireOrders",
    "EXPIRE_DEFAULT_LIMIT",
    "ClaimFees",
    "GOVERNANCE",
    "Command",
    "COMMAND_TYPES",
    "to_dict",
    "from_dict",
]

_registry = Registry("command")


@_registry.register
class DepositCredit(NamedTuple):
    """Credit a confirmed chain deposit. ``deposit_id`` (e.g. tx hash + log index) is idempotent."""

    ts: int
    deposit_id: str
    account: str
    asset: str
    amount: int

    @property
    def type(self) -> str:
        return "deposit_credit"


@_registry.register
class WithdrawRequest(NamedTuple):
    """Debit free balance and authorise a withdrawal valid until ``expiry_ts``."""

    ts: int
    withdrawal_id: str
    account: str
    asset: str
    amount: int
    expiry_ts: int

    @property
    def type(self) -> str:
        return "withdraw_request"


@_registry.register
class WithdrawExpire(NamedTuple):
    """Re-credit a pending withdrawal whose authorisation expired unused (``ts >= expiry_ts``)."""

    ts: int
    withdrawal_id: str

    @property
    def type(self) -> str:
        return "withdraw_expire"


@_registry.register
class WithdrawExecuted(NamedTuple):
    """The vault paid a pending withdrawal out on chain; it can no longer expire."""

    ts: int
    withdrawal_id: str

    @property
    def type(self) -> str:
        return "withdraw_executed"


@_registry.register
class LaunchMarket(NamedTuple):
    """Open a market. See docs/engine.md for the meaning and limits of every spec field."""

    ts: int
    market_id: str
    kind: str
    base_asset: str
    quote_asset: str
    tick_size: int  # quote minor units per tick per lot
    lot_size: int  # base minor units per lot
    min_size: int  # lots
    maker_fee_bps: int  # negative = rebate
    taker_fee_bps: int
    deployer_fee_share_bps: int
    deployer: str
    # prediction markets only (kind="prediction"); spot ignores them. See docs/engine.md.
    close_ts: int = 0  # trading stops at this ts; resolution may be proposed from then on
    resolver: str = ""  # the only account that may propose the outcome
    dispute_window_ms: int = 0  # >= the protocol floor
    dispute_bond: int = 0  # collateral minor units, >= the protocol floor
    invalid_split_bps: int = 5_000  # what a YES share pays on INVALID (NO gets the rest)
    group_id: str = ""  # multi-outcome group this market belongs to ("" = standalone binary)
    group_size: int = 0  # number of outcomes the group is launched with
    outcome: str = ""  # this market's outcome name within the group
    add_outcome_rule: str = "none"  # "none" | "other": may outcomes be added to a formed group
    # perp markets only (kind="perp", issue 14); spot and prediction ignore them. See docs/engine.md.
    margin_tiers: str = ""  # "cap:im_bps:mm_bps,...", notional caps in collateral minor units, last cap 0
    collateral_weight_bps: int = 0  # share of unrealised profit that counts toward cross equity
    oracle_source: str = ""  # "push:<key address>" | "aggregator:<feed>" | "index:<market id>"
    oi_cap: int = 0  # open interest cap of the market, lots per side
    account_oi_cap: int = 0  # largest position of one margin domain, lots
    access: str = "open"  # "open" | "allowlist"
    bond: int = 0  # the deployer's bond as indexed from the chain, core-asset minor units

    @property
    def type(self) -> str:
        return "launch_market"


# a spec with every field empty: restore builds a market's records from it, then sets each field
# from the snapshot (a compiled class cannot be made without its __init__)
BLANK_LAUNCH = LaunchMarket(0, "", "", "", "", 0, 0, 0, 0, 0, 0, "")


@_registry.register
class HaltMarket(NamedTuple):
    """Stop a market: cancel every resting order, release reservations, refuse new orders."""

    ts: int
    market_id: str
    reason: str = ""

    @property
    def type(self) -> str:
        return "halt_market"


@_registry.register
class PlaceOrder(NamedTuple):
    """Place a limit or market order. For ``order_type="market"``, ``price`` is the protection price."""

    ts: int
    account: str
    market_id: str
    side: str  # "buy" | "sell"
    price: int  # ticks
    size: int  # lots
    order_type: str = "limit"  # "limit" | "market"
    tif: str = "gtc"  # "gtc" | "ioc" | "fok" | "post_only"
    stp: str = "cancel_taking"  # "cancel_resting" | "cancel_taking" | "cancel_both"
    client_id: str = ""
    expiry_ts: int = 0  # 0 = never
    reduce_only: bool = False  # placeholder (issue 14); rejected on spot
    outcome: str = "yes"  # prediction markets: "yes" | "no"; spot accepts only "yes"

    @property
    def type(self) -> str:
        return "place_order"


@_registry.register
class CancelOrder(NamedTuple):
    """Cancel one of the account's resting orders by ``order_id`` (or by ``client_id`` if order_id is 0)."""

    ts: int
    account: str
    order_id: int = 0
    client_id: str = ""

    @property
    def type(self) -> str:
        return "cancel_order"


@_registry.register
class CancelAll(NamedTuple):
    """Cancel all of the account's resting orders, in one market or (``market_id=""``) everywhere."""

    ts: int
    account: str
    market_id: str = ""

    @property
    def type(self) -> str:
        return "cancel_all"


@_registry.register
class Split(NamedTuple):
    """Prediction: turn ``amount`` share units of collateral into ``amount`` YES + ``amount`` NO shares."""

    ts: int
    account: str
    market_id: str
    amount: int  # shares (lots)

    @property
    def type(self) -> str:
        return "split"


@_registry.register
class Merge(NamedTuple):
    """Prediction: turn ``amount`` YES + ``amount`` NO shares back into ``amount`` share units of collateral."""

    ts: int
    account: str
    market_id: str
    amount: int

    @property
    def type(self) -> str:
        return "merge"


@_registry.register
class ConvertNo(NamedTuple):
    """Multi-outcome: ``amount`` NO of k outcomes -> (k-1)*amount units + ``amount`` YES of each other outcome."""

    ts: int
    account: str
    group_id: str
    market_ids: str  # comma-separated member market ids, each once
    amount: int

    @property
    def type(self) -> str:
        return "convert_no"


@_registry.register
class AddOutcome(NamedTuple):
    """Add an outcome market to a formed group whose rule is "other" (carved out of its "other" outcome)."""

    ts: int
    account: str  # the group's deployer
    group_id: str
    market_id: str
    outcome: str

    @property
    def type(self) -> str:
        return "add_outcome"


@_registry.register
class ProposeResolution(NamedTuple):
    """The resolver proposes an outcome after close: yes/no/invalid, or a member market id for a group."""

    ts: int
    account: str
    market_id: str  # a standalone market id, or a group id
    outcome: str

    @property
    def type(self) -> str:
        return "propose_resolution"


@_registry.register
class Dispute(NamedTuple):
    """Anyone disputes the proposal within the window, posting the spec's bond from free collateral."""

    ts: int
    account: str
    market_id: str  # market or group id

    @property
    def type(self) -> str:
        return "dispute"


@_registry.register
class GovernanceDecision(NamedTuple):
    """The committee's decision on a dispute: confirm (same outcome) or replace it. Final."""

    ts: int
    market_id: str  # market or group id
    outcome: str
    case_id: str = ""

    @property
    def type(self) -> str:
        return "governance_decision"


@_registry.register
class FinalizeResolution(NamedTuple):
    """Clock command: an undisputed proposal becomes final once the dispute window is over."""

    ts: int
    market_id: str  # market or group id

    @property
    def type(self) -> str:
        return "finalize_resolution"


@_registry.register
class SubaccountTransfer(NamedTuple):
    """Move free collateral between two (sub-)accounts of the same wallet."""

    ts: int
    account: str  # from: "<address>" or "<address>:<n>"
    to_account: str  # to: same address
    asset: str
    amount: int

    @property
    def type(self) -> str:
        return "subaccount_transfer"


@_registry.register
class GraduationTick(NamedTuple):
    """Clock command: every isolated-only perp market that meets the graduation rule becomes cross-eligible."""

    ts: int

    @property
    def type(self) -> str:
        return "graduation_tick"


@_registry.register
class SetRiskClass(NamedTuple):
    """Governance: set a perp market's risk class (promote or demote); the tick leaves it alone after that."""

    ts: int
    market_id: str
    risk_class: str  # "isolated_only" | "cross_eligible"
    case_id: str = ""

    @property
    def type(self) -> str:
        return "set_risk_class"


@_registry.register
class GovernanceCase(NamedTuple):
    """Governance: a case about a perp market was opened or closed (an open case blocks graduation)."""

    ts: int
    market_id: str
    case_id: str
    status: str  # "open" | "closed"

    @property
    def type(self) -> str:
        return "governance_case"


@_registry.register
class SetMarginMode(NamedTuple):
    """Choose cross or isolated for the domain's (future) position in a perp market; only while flat."""

    ts: int
    account: str
    market_id: str
    mode: str  # "cross" | "isolated"

    @property
    def type(self) -> str:
        return "set_margin_mode"


@_registry.register
class AdjustIsolatedMargin(NamedTuple):
    """Add (amount > 0, from free collateral) or remove (amount < 0, within the limits) isolated margin."""

    ts: int
    account: str
    market_id: str
    amount: int

    @property
    def type(self) -> str:
        return "adjust_isolated_margin"


@_registry.register
class OraclePrice(NamedTuple):
    """An oracle price for a perp market from the source its spec names (guards: docs/engine.md)."""

    ts: int
    market_id: str
    price: int  # ticks; 0 for an index source (the engine reads the index market's mid)
    source: str  # must equal the spec's oracle_source

    @property
    def type(self) -> str:
        return "oracle_price"


@_registry.register
class FundingTick(NamedTuple):
    """Clock command: settle one funding interval of a perp market."""

    ts: int
    market_id: str

    @property
    def type(self) -> str:
        return "funding_tick"


@_registry.register
class ResumeMarket(NamedTuple):
    """The deployer or governance resumes a halted perp market (positions were settled at the halt)."""

    ts: int
    market_id: str

    @property
    def type(self) -> str:
        return "resume_market"


@_registry.register
class SetAllowlist(NamedTuple):
    """The deployer (its signature checked at the edge) adds or removes a wallet on a market's allowlist."""

    ts: int
    market_id: str
    deployer: str  # must be the market's deployer
    wallet: str  # an address: all of its sub-accounts follow it
    allowed: bool

    @property
    def type(self) -> str:
        return "set_allowlist"


@_registry.register
class Liquidate(NamedTuple):
    """Keeper/clock command: liquidate a domain below maintenance (cross: market_id ""; isolated: its market)."""

    ts: int
    account: str
    market_id: str = ""

    @property
    def type(self) -> str:
        return "liquidate"


@_registry.register
class PlaceTrigger(NamedTuple):
    """A trigger order on a perp, fired by the mark: stop-market, stop-limit, or TP / SL on the position."""

    ts: int
    account: str
    market_id: str
    kind: str  # "stop_market" | "stop_limit" | "take_profit" | "stop_loss"
    trigger_price: int  # ticks
    side: str = ""  # stop orders: "buy" | "sell"; TP / SL: "" (the side that closes the position)
    price: int = 0  # stop_limit: the limit; others: a protection price (0 = mark -/+ trigger_slippage_bps)
    size: int = 0  # stop orders: lots; TP / SL: 0 = the whole position when it fires

    @property
    def type(self) -> str:
        return "place_trigger"


@_registry.register
class CancelTrigger(NamedTuple):
    ts: int
    account: str
    trigger_id: int

    @property
    def type(self) -> str:
        return "cancel_trigger"


@_registry.register
class TriggerTick(NamedTuple):
    """Clock command: fire every trigger of the market that the mark has reached, lowest id first."""

    ts: int
    market_id: str

    @property
    def type(self) -> str:
        return "trigger_tick"


EXPIRE_DEFAULT_LIMIT = 100  # orders per ExpireOrders; see docs/engine.md for the reason


@_registry.register
class ExpireOrders(NamedTuple):
    """Clock command: remove up to ``limit`` resting orders whose expiry_ts <= ts ("" = every market)."""

    ts: int
    market_id: str = ""
    limit: int = EXPIRE_DEFAULT_LIMIT

    @property
    def type(self) -> str:
        return "expire_orders"


GOVERNANCE = "governance"  # ClaimFees.claimant for the protocol's fees


@_registry.register
class ClaimFees(NamedTuple):
    """Move fees out of a fee account: a deployer's to its own account, the protocol's to the treasury.

    ``account`` is the fee account (``sys:deployer:<address>`` or ``sys:protocol``); ``claimant``
    is that deployer's address, or ``"governance"`` for ``sys:protocol``. The sequencer checks the
    claimant's signature (or the committee's decision) before the command reaches the engine.
    """

    ts: int
    account: str
    asset: str
    amount: int
    claimant: str

    @property
    def type(self) -> str:
        return "claim_fees"


Command = (
    DepositCredit
    | WithdrawRequest
    | WithdrawExpire
    | WithdrawExecuted
    | LaunchMarket
    | HaltMarket
    | PlaceOrder
    | CancelOrder
    | CancelAll
    | Split
    | Merge
    | ConvertNo
    | AddOutcome
    | ProposeResolution
    | Dispute
    | GovernanceDecision
    | FinalizeResolution
    | SubaccountTransfer
    | GraduationTick
    | SetRiskClass
    | GovernanceCase
    | SetMarginMode
    | AdjustIsolatedMargin
    | OraclePrice
    | FundingTick
    | ResumeMarket
    | SetAllowlist
    | Liquidate
    | PlaceTrigger
    | CancelTrigger
    | TriggerTick
    | ExpireOrders
    | ClaimFees
)

COMMAND_TYPES: dict[str, type[Any]] = dict(_registry.by_name)

# stable type name per command class
TYPE_NAMES: dict[type[Any], str] = {cls: name for name, cls in COMMAND_TYPES.items()}

# exact type of every field, per command class (the engine rejects anything else)
FIELD_TYPES: dict[type[Any], tuple[type, ...]] = {cls: _registry.field_types(cls) for cls in COMMAND_TYPES.values()}


def to_dict(command: Command) -> dict[str, Any]:
    """Command -> JSON-safe dict with a ``type`` key."""
    return _registry.to_dict(command)


def from_dict(data: dict[str, Any]) -> Command:
    """JSON-safe dict -> Command; raises CodecError on unknown type, unknown/missing field or wrong type."""
    result: Command = _registry.from_dict(data)
    return result
