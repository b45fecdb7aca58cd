"""Shared helpers for the prediction-market tests: specs and an invariant checker."""

from __future__ import annotations

from typing import Any

from markets.engine import Engine
from markets.engine import commands as C
from markets.engine.book import Order
from markets.engine.prediction import collateral_account

from .conftest import check_books, reserved_of

USD = "USD"
HOUR2 = 2 * 60 * 60 * 1000
CLOSE = 1_000


def pred_spec(market_id: str = "BIN", **over: Any) -> C.LaunchMarket:
    """A binary market: tick 1, share unit 100 (prices 1..99), no fees unless overridden."""
    spec: dict[str, Any] = dict(
        ts=1,
        market_id=market_id,
        kind="prediction",
        base_asset="",
        quote_asset=USD,
        tick_size=1,
        lot_size=100,
        min_size=1,
        maker_fee_bps=0,
        taker_fee_bps=0,
        deployer_fee_share_bps=0,
        deployer="0xdeployer",
        close_ts=CLOSE,
        resolver="oracle",
        dispute_window_ms=HOUR2,
        dispute_bond=1_000,
        bond=500 * 10**18,  # the protocol's minimum for prediction markets (params.py)
    )
    spec.update(over)
    return C.LaunchMarket(**spec)


def group_specs(group_id: str, outcomes: list[str], rule: str = "none", **over: Any) -> list[C.LaunchMarket]:
    return [
        pred_spec(f"{group_id}-{name}", group_id=group_id, group_size=len(outcomes), outcome=name,
                  add_outcome_rule=rule, **over)
        for name in outcomes
    ]  # fmt: skip


def order_need(eng: Engine, o: Order) -> tuple[str, int]:
    """(asset, amount) a resting prediction order must hold, recomputed from scratch."""
    pm = eng.pred.markets[o.market_id]
    m = eng.markets[o.market_id]
    pool = eng.pred.pools[pm.pool_id]
    is_no = o.order_id in eng.pred.no_orders
    own_buy = o.is_buy != is_no
    if not own_buy:
        return (pm.no if is_no else pm.yes), o.qty
    own_price = pm.max_price - o.price if is_no else o.price
    n = own_price * o.qty * m.tick
    bps = max(m.maker_bps, 0)
    return pool.collateral, n + (o.fee_w // -10_000) - ((o.fee_w + n * bps) // -10_000)


def check_prediction_invariants(eng: Engine, collateral_totals: dict[str, int]) -> None:
    """Ledger, share-supply, pool and book invariants of an engine with prediction markets only."""
    totals: dict[str, int] = {}
    for aid, acct in eng.accounts.items():
        for asset, b in acct.bal.items():
            assert b.free >= 0 and b.reserved >= 0, f"{aid} {asset} negative: {b.free}, {b.reserved}"
            totals[asset] = totals.get(asset, 0) + b.free + b.reserved
        want: dict[str, int] = {}
        for o in acct.orders.values():
            asset, need = order_need(eng, o)
            assert o.reserved == need, f"order {o.order_id} reserved {o.reserved} != need {need}"
            assert o.hold is acct.bal[asset], f"order {o.order_id} holds its funds outside {aid}'s {asset} entry"
            want[asset] = want.get(asset, 0) + need
        for asset in set(want) | set(acct.bal):
            assert reserved_of(acct, asset) == want.get(asset, 0), f"{aid} reserved {asset} mismatch"
    # collateral: deposits minus withdrawals, whatever moved between accounts
    for asset, total in collateral_totals.items():
        assert totals.get(asset, 0) == total, f"conservation broken for {asset}"
    # shares: the ledger holds exactly the supply
    for mid, pm in eng.pred.markets.items():
        assert totals.get(pm.yes, 0) == pm.yes_supply, f"{mid} YES ledger {totals.get(pm.yes, 0)} != supply"
        assert totals.get(pm.no, 0) == pm.no_supply, f"{mid} NO ledger {totals.get(pm.no, 0)} != supply"
    for pid, pool in eng.pred.pools.items():
        locked = eng.balance(collateral_account(pid), pool.collateral)[0]
        yes = [eng.pred.markets[mid].yes_supply for mid in pool.members]
        no = [eng.pred.markets[mid].no_supply for mid in pool.members]
        if not pool.is_group:
            assert yes[0] == no[0] and locked == yes[0] * pool.unit, f"{pid}: YES {yes} NO {no} locked {locked}"
        else:
            excess = {y - n for y, n in zip(yes, no, strict=True)}
            assert len(excess) == 1, f"{pid}: YES - NO differs between outcomes: {yes} {no}"
            (d,) = excess
            assert d >= 0 and locked == (sum(no) + d) * pool.unit, f"{pid}: locked {locked}, NO {no}, D {d}"
        if pool.status == "final":
            assert locked == 0 and not any(yes) and not any(no)
    check_books(eng)
    assert eng.pred.no_orders <= set(eng.orders)
    # the payout's holder index is exactly the accounts with a ledger entry for the shares
    for mid, pm in eng.pred.markets.items():
        want_holders = {aid for aid, a in eng.accounts.items() if {pm.yes, pm.no} & a.bal.keys()}
        assert pm.holders == want_holders, f"{mid} holder index {sorted(pm.holders)} != {sorted(want_holders)}"
