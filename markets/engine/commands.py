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

    @property
    def type(self) -> str:
        return "launch_market"


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
