"""Shared helpers for the perp and margin tests: a perp spec and fast protocol parameters."""

from __future__ import annotations

from typing import Any

from markets.engine import commands as C
from markets.engine.params import ProtocolParams

USD = "USD"
# notional caps in USD minor units: up to 1,000,000 at 10 % / 5 %, then 20 % / 10 %
TIERS = "1000000:1000:500,0:2000:1000"
# graduation after 1,000 ms with any bond and at least 1 lot of open interest
FAST = ProtocolParams(graduation_min_age_ms=1_000, graduation_min_bond=100, graduation_min_oi_lots=0)


def perp_spec(market_id: str = "BTC-PERP", **over: Any) -> C.LaunchMarket:
    """A linear perp on BTC margined in USD: 1 tick = 1 USD minor unit per lot."""
    spec: dict[str, Any] = dict(
        ts=1,
        market_id=market_id,
        kind="perp",
        base_asset="BTC",
        quote_asset=USD,
        tick_size=1,
        lot_size=1,
        min_size=1,
        maker_fee_bps=0,
        taker_fee_bps=0,
        deployer_fee_share_bps=0,
        deployer="0xdeployer",
        margin_tiers=TIERS,
        collateral_weight_bps=8_000,
        oracle_source="push:0xoraclekey",
        oi_cap=10_000,
        account_oi_cap=1_000,
        access="open",
        bond=10_000 * 10**18,  # above the launch minimum (1,000 core tokens) and the default graduation rule
    )
    spec.update(over)
    return C.LaunchMarket(**spec)


def perp_totals(eng: Any) -> dict[str, int]:
    """Per asset: every ledger balance (fee and insurance accounts included) plus every perp
    position's cash and isolated margin. Equals deposits minus withdrawals at all times."""
    totals: dict[str, int] = {}
    for acct in eng.accounts.values():
        for asset, b in acct.bal.items():
            totals[asset] = totals.get(asset, 0) + b.free + b.reserved
    for pm in eng.perp.markets.values():
        for pos in pm.holders.values():
            totals[pm.collateral] = totals.get(pm.collateral, 0) + pos.cash + pos.margin
    return totals
