"""Protocol parameters: every number the margin, perp and risk-class rules depend on.

One frozen ``ProtocolParams`` per deployment. ``Engine()`` uses ``DEFAULT_PARAMS``; a
deployment that changes a value passes its own object to ``Engine(params=...)`` and the
values enter the snapshot (and so the state hash) with the first perp state. Where each
default comes from is documented in docs/engine.md ("Protocol parameters").
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

__all__ = ["ProtocolParams", "DEFAULT_PARAMS"]


@dataclass(frozen=True, slots=True)
class ProtocolParams:
    """Integers (milliseconds, basis points (1/10,000), lots or minor units as named), and one account id."""

    # accounts
    max_subaccounts: int = 255  # sub-account numbers 1..max_subaccounts
    # launch: the least bond (core-asset minor units, 18 decimals) a LaunchMarket may carry, per kind;
    # the MarketRegistry's deployment defaults (chain/deployment.py DEFAULT_MIN_BONDS)
    min_bond_spot: int = 100 * 10**18
    min_bond_perp: int = 1_000 * 10**18
    min_bond_prediction: int = 500 * 10**18
    # risk classes: an isolated-only perp market graduates to cross-eligible when all hold
    graduation_min_age_ms: int = 7 * 24 * 3_600_000  # a week since launch
    graduation_min_bond: int = 10_000 * 10**18  # bond, core-asset minor units (18 decimals)
    graduation_min_oi_lots: int = 1  # open interest (lots) at the tick; > 0 means "someone trades it"
    # oracle guards
    oracle_min_interval_ms: int = 2_500  # pushes at least 2.5 s apart
    oracle_max_move_bps: int = 100  # 1 % per push; a larger move is clamped and flagged
    oracle_stale_ms: int = 10_000  # older than 10 s: stale, the mark falls back to the book
    # funding
    funding_interval_ms: int = 3_600_000  # hourly
    funding_clamp_bps: int = 50  # |premium| per interval at most 0.5 %
    # liquidation
    liquidation_fee_bps: int = 50  # of the closed notional, to the market's insurance fund
    liquidation_step_lots: int = 1_000  # largest IOC step of one liquidation
    liquidation_max_steps: int = 20  # IOC steps per Liquidate command at most
    liquidation_slippage_bps: int = 500  # a liquidation step trades at most 5 % through the mark
    # trigger orders
    trigger_slippage_bps: int = 500  # a fired stop-market / TP / SL trades at most 5 % through the mark
    max_trigger_rounds: int = 5  # a TriggerTick re-reads the mark after each round of fires, this often at most
    # expiry sweep
    expire_max_orders: int = 1_000  # the largest ``limit`` one ExpireOrders command may take
    # fee claims: the trading account that receives the protocol's fees ("" = not set, claims refused)
    treasury_account: str = ""
    # perp spec limits
    max_collateral_weight_bps: int = 10_000
    max_margin_tiers: int = 8

    def as_dict(self) -> dict[str, Any]:
        # every value is an int or a str: a shallow copy is a full one, without asdict's deep copy
        # (state_hash calls this for every snapshot)
        return {f.name: getattr(self, f.name) for f in fields(self)}


DEFAULT_PARAMS = ProtocolParams()
