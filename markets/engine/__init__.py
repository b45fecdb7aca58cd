"""Exchange OS trading core: a deterministic, integer-only state machine (no Django, no I/O).

Public surface (see docs/engine.md)::

    from markets.engine import Engine, commands, events, RejectReason

    engine = Engine()
    evs = engine.apply(commands.DepositCredit(ts=1, deposit_id="0xtx:0", account="0xabc", asset="USDC", amount=10**9))
"""

# isort: off
# first of all: when the compiled build matches this source, its modules are found ahead of it
from . import _native

# isort: on
from . import commands, events, units
from .codec import CodecError
from .engine import PROTOCOL_FEE_ACCOUNT, SYSTEM_PREFIX, Engine, deployer_fee_account, insurance_account
from .enums import (
    CancelReason,
    MarketKind,
    MarketStatus,
    OrderType,
    RejectReason,
    SelfTradePrevention,
    Side,
    TimeInForce,
    WithdrawalStatus,
)

NATIVE: bool = _native.ACTIVE  # the compiled build is in use (docs/engine.md "Running the engine")

__all__ = [
    "NATIVE",
    "Engine",
    "commands",
    "events",
    "units",
    "CodecError",
    "RejectReason",
    "CancelReason",
    "MarketKind",
    "MarketStatus",
    "OrderType",
    "SelfTradePrevention",
    "Side",
    "TimeInForce",
    "WithdrawalStatus",
    "PROTOCOL_FEE_ACCOUNT",
    "SYSTEM_PREFIX",
    "deployer_fee_account",
    "insurance_account",
]
