"""Perpetual markets and margin domains (issue 14): perp specs, risk classes, sub-accounts.

A margin domain is one ledger account: a wallet's main account ``"<address>"`` or one of its
numbered sub-accounts ``"<address>:<n>"``. Collateral moves between one wallet's domains only
by ``SubaccountTransfer``, and only from free collateral.

Every perp market launches ``isolated_only``. ``GraduationTick`` (a clock command) promotes
each isolated-only market that meets the rule in ``ProtocolParams``; governance can set the
class either way with ``SetRiskClass``, after which the tick leaves the market alone.

State here enters the snapshot (key ``perp``) only once a perp market exists, so the hash of
a state without perps is what it was before issue 14.
"""

from __future__ import annotations

from sys import intern
from typing import TYPE_CHECKING, Any, Final

from . import commands as C
from . import events as E
from .book import EXPIRED, STP_RESTING, Order
from .engine import (
    _RESTING_TIFS,
    _check_order_terms,
    _check_post_only,
    _order_shape,
    _Reject,
    _reject,
)
from .enums import CancelReason, MarketStatus, RejectReason, RiskClass
from .margin import (
    BPS,
    MarginTier,
    account_owner,
    ceil_div,
    format_tiers,
    parse_account,
    parse_tiers,
    requirement,
    tier_for,
    weighted_pnl,
)
from .params import DEFAULT_PARAMS, ProtocolParams
from .sweep import MarginIndex

if TYPE_CHECKING:
    from .engine import Engine, Market
    from .ledger import Account

__all__ = ["Perp", "PerpMarket", "Position", "ORACLE_KINDS", "ACCESS_POLICIES", "TRADE_AVG_N"]

ORACLE_KINDS: Final = ("push", "aggregator", "index")
ACCESS_POLICIES: Final = ("open", "allowlist")
_ISOLATED: Final = RiskClass.ISOLATED_ONLY.value
_CROSS: Final = RiskClass.CROSS_ELIGIBLE.value
CROSS: Final = "cross"
ISOLATED: Final = "isolated"
TRADE_AVG_N: Final = 5  # the mark's last-trade average is over this many trades


class PerpMarket:
    """The perp part of a market: spec, risk class and governance cases."""

    __slots__ = (
        "market_id",
        "collateral",
        "tiers",
        "weight_bps",
        "oracle_source",
        "oi_cap",
        "account_oi_cap",
        "access",
        "bond",
        "launch_ts",
        "risk_class",
        "pinned",
        "open_cases",
        "long_oi",
        "oracle",
        "oracle_ts",
        "clamped",
        "trades",
        "funding_ts",
        "allowlist",
        "holders",
    )

    def __init__(self, c: C.LaunchMarket, tiers: list[MarginTier]) -> None:
        self.market_id = c.market_id
        self.collateral = c.quote_asset
        self.tiers = tiers
        self.weight_bps = c.collateral_weight_bps
        self.oracle_source = c.oracle_source
        self.oi_cap = c.oi_cap
        self.account_oi_cap = c.account_oi_cap
        self.access = c.access
        self.bond = c.bond
        self.launch_ts = c.ts
        self.risk_class = _ISOLATED
        self.pinned = False  # governance set the class; the graduation tick no longer applies
        self.open_cases: list[str] = []  # case ids, in the order they were opened
        self.long_oi = 0  # open interest in lots (longs = shorts)
        self.oracle = 0  # last accepted oracle price, ticks (0 = none yet)
        self.oracle_ts = 0
        self.clamped = False  # the last push was clamped: liquidations pause until a clean push
        self.trades: list[int] = []  # the last TRADE_AVG_N trade prices, oldest first
        self.funding_ts = c.ts  # start of the current funding interval
        self.allowlist: list[str] = []  # wallets allowed to add risk when access is "allowlist", sorted
        self.holders: dict[str, Position] = {}  # account -> position record (derived; not hashed twice)

    def row(self) -> dict[str, Any]:
        return {
            "collateral": self.collateral,
            "tiers": format_tiers(self.tiers),
            "weight_bps": self.weight_bps,
            "oracle_source": self.oracle_source,
            "oi_cap": self.oi_cap,
            "account_oi_cap": self.account_oi_cap,
            "access": self.access,
            "bond": self.bond,
            "launch_ts": self.launch_ts,
            "risk_class": self.risk_class,
            "pinned": self.pinned,
            "open_cases": list(self.open_cases),
            "long_oi": self.long_oi,
            "oracle": self.oracle,
            "oracle_ts": self.oracle_ts,
            "clamped": self.clamped,
            "trades": list(self.trades),
            "funding_ts": self.funding_ts,
            "allowlist": list(self.allowlist),
        }


class Position:
    """One margin domain's record in one perp market.

    ``cash`` is the position's signed quote balance: a buy of q lots at p pays ``p*q*tick``
    into it (a sell receives), fees and funding are paid from it. So its unrealised PnL at
    mark M is ``cash + size*M*tick`` exactly, with no division. An isolated position also
    has ``margin``, collateral moved out of the ledger for it alone.
    """

    __slots__ = ("account", "market_id", "size", "cash", "mode", "margin")

    def __init__(self, account: str, market_id: str, mode: str) -> None:
        self.account = account
        self.market_id = market_id
        self.size = 0  # lots, > 0 long, < 0 short
        self.cash = 0
        self.mode = mode
        self.margin = 0  # isolated only

    def row(self) -> list[Any]:
        return [self.size, self.cash, self.mode, self.margin]


class Perp:
    """All perp and margin-domain state of one Engine. Methods take the engine, whose ledger they change."""

    def __init__(self, params: ProtocolParams = DEFAULT_PARAMS) -> None:
        self.params = params
        self.markets: dict[str, PerpMarket] = {}
        self.domains: dict[str, dict[str, Position]] = {}  # account -> market -> position
        self.weights: dict[str, int] = {}  # spot / prediction market -> collateral weight bps (non-zero only)
        self.triggers: dict[int, list[Any]] = {}  # id -> [account, market, kind, side, trigger, price, size, oco]
        self.next_trigger_id = 1
        # derived, not in the snapshot: built at the first perp launch or first use, then kept by
        # every change to a position record
        self.index: MarginIndex | None = None

    # -- snapshot ----------------------------------------------------------------------------

    def active(self) -> bool:
        """Whether any perp state exists (only then does the snapshot carry a ``perp`` key)."""
        return bool(self.markets or self.weights)

    def snapshot(self) -> dict[str, Any]:
        return {
            "params": self.params.as_dict(),
            "markets": {mid: pm.row() for mid, pm in self.markets.items()},
            "weights": dict(self.weights),
            "triggers": {str(tid): list(row) for tid, row in self.triggers.items()},
            "next_trigger_id": self.next_trigger_id,
            "positions": {
                aid: {mid: pos.row() for mid, pos in sorted(d.items())} for aid, d in sorted(self.domains.items())
            },
        }

    def restore(self, snap: dict[str, Any]) -> None:
        self.params = ProtocolParams(**snap["params"])
        self.weights = dict(snap["weights"])
        self.triggers = {int(tid): list(row) for tid, row in snap["triggers"].items()}
        self.next_trigger_id = snap["next_trigger_id"]
        for mid, row in snap["markets"].items():
            pm = PerpMarket(C.BLANK_LAUNCH._replace(market_id=mid), [])  # the row then sets every field
            for key, value in row.items():
                if key == "tiers":
                    pm.tiers = parse_tiers(value, self.params.max_margin_tiers)
                elif key in ("open_cases", "trades", "allowlist"):
                    setattr(pm, key, list(value))
                else:
                    setattr(pm, key, value)
            pm.holders = {}
            self.markets[mid] = pm
        for aid, rows in snap.get("positions", {}).items():
            for mid, (size, cash, mode, margin) in rows.items():
                pos = self._new_position(aid, mid, mode)
                pos.size, pos.cash, pos.margin = size, cash, margin

    # -- launch ------------------------------------------------------------------------------

    def validate_spec(self, eng: Engine, c: C.LaunchMarket) -> list[MarginTier]:
        """The perp-only spec rules; the common ones (assets, tick, lot, fees) are the engine's."""
        p = self.params
        try:
            tiers = parse_tiers(c.margin_tiers, p.max_margin_tiers)
        except ValueError as exc:
            _reject(RejectReason.BAD_MARKET_SPEC, str(exc))
        if not 0 <= c.collateral_weight_bps <= p.max_collateral_weight_bps:
            _reject(
                RejectReason.BAD_MARKET_SPEC, f"collateral_weight_bps must be within 0..{p.max_collateral_weight_bps}"
            )
        kind, _, ref = c.oracle_source.partition(":")
        if kind not in ORACLE_KINDS or not ref:
            _reject(
                RejectReason.BAD_MARKET_SPEC, "oracle_source must be push:<key>, aggregator:<feed> or index:<market>"
            )
        if kind == "index" and (ref == c.market_id or ref not in eng.markets):
            _reject(RejectReason.BAD_MARKET_SPEC, f"index oracle market {ref!r} does not exist")
        if c.oi_cap <= 0 or not 0 < c.account_oi_cap <= c.oi_cap:
            _reject(RejectReason.BAD_MARKET_SPEC, "need oi_cap > 0 and 0 < account_oi_cap <= oi_cap")
        if c.access not in ACCESS_POLICIES:
            _reject(RejectReason.BAD_MARKET_SPEC, f"access must be open or allowlist, got {c.access!r}")
        return tiers

    def launch(self, eng: Engine, c: C.LaunchMarket, tiers: list[MarginTier]) -> list[Any]:
        """Record a validated perp spec (the engine has created the Market) -> PerpMarketLaunched."""
        pm = PerpMarket(c, tiers)
        self.markets[c.market_id] = pm
        if self.index is None:
            self.index = MarginIndex(eng)
        else:
            self.index.add_market(c.market_id)
        eng.seq += 1
        return [
            E.PerpMarketLaunched(
                eng.seq,
                c.market_id,
                pm.collateral,
                format_tiers(tiers),
                pm.weight_bps,
                pm.oracle_source,
                pm.oi_cap,
                pm.account_oi_cap,
                pm.access,
                pm.bond,
                pm.risk_class,
            )
        ]

    def _perp(self, eng: Engine, market_id: str) -> PerpMarket:
        eng._market(market_id)
        pm = self.markets.get(market_id)
        if pm is None:
            _reject(RejectReason.PERP_ONLY, f"{market_id!r} is not a perp market")
        return pm

    # -- positions and mark --------------------------------------------------------------------

    def _new_position(self, account: str, market_id: str, mode: str) -> Position:
        pos = Position(account, market_id, mode)
        self.domains.setdefault(account, {})[market_id] = pos
        self.markets[market_id].holders[account] = pos
        if self.index is not None:
            self.index.changed(pos)
        return pos

    def margin_index(self, eng: Engine) -> MarginIndex:
        """The kept index of every domain's health (built from the state if there is none yet)."""
        if self.index is None:
            self.index = MarginIndex(eng)
        return self.index

    def sweep(self, eng: Engine, ts: int) -> list[tuple[str, str]]:
        """Every domain below maintenance at ``ts``, from the kept index; equals ``under_maintenance``."""
        return self.margin_index(eng).sweep(eng, ts)

    def position(self, account: str, market_id: str) -> Position | None:
        """The domain's record in a perp market, if any. Treat it as read-only."""
        return self.domains.get(account, {}).get(market_id)

    def default_mode(self, pm: PerpMarket) -> str:
        return CROSS if pm.risk_class == _CROSS else ISOLATED

    def oracle_fresh(self, pm: PerpMarket, ts: int) -> bool:
        return pm.oracle > 0 and ts - pm.oracle_ts <= self.params.oracle_stale_ms

    def mark(self, pm: PerpMarket, m: Market, ts: int) -> int | None:
        """Median of the fresh oracle, the book mid and the last-trade average (those that exist).

        With two of them: the floor of their mean; with none: None. Mid and average round down.
        """
        comps = []
        if self.oracle_fresh(pm, ts):
            comps.append(pm.oracle)
        bb, ba = m.book.best_bid(), m.book.best_ask()
        if bb is not None and ba is not None:
            comps.append((bb + ba) // 2)
        if pm.trades:
            comps.append(sum(pm.trades) // len(pm.trades))
        if not comps:
            return None
        comps.sort()
        if len(comps) == 2:
            return (comps[0] + comps[1]) // 2
        return comps[len(comps) // 2]

    def _market_req(
        self, m: Market, pm: PerpMarket, size: int, acct: Account, mark: int, extra: tuple[bool, int, int] | None
    ) -> tuple[int, int, int]:
        """(initial requirement with orders, initial of the position alone, maintenance) in one market.

        With orders: the initial requirement of the larger of the two worst cases (every buy
        fills, or every sell fills), plus what each order would lose at once against the mark
        if filled at its price, plus its worst-case taker fee. All rounded up.
        """
        tick = m.tick
        take = m.take_bps
        buys = sells = load = 0
        orders = [(o.is_buy, o.price, o.qty) for o in acct.orders.values() if o.market_id == pm.market_id]
        if extra is not None:
            orders.append(extra)
        for is_buy, price, qty in orders:
            if is_buy:
                buys += qty
                adverse = (price - mark) * qty * tick
            else:
                sells += qty
                adverse = (mark - price) * qty * tick
            if adverse > 0:
                load += adverse
            load += ceil_div(price * qty * tick * take, BPS)
        worst = max(abs(size + buys), abs(size - sells))
        im_orders = requirement(pm.tiers, worst * mark * tick)[0] + load
        im, mm = requirement(pm.tiers, abs(size) * mark * tick)
        return im_orders, im, mm

    def cross_margin(
        self,
        eng: Engine,
        account_id: str,
        asset: str,
        ts: int,
        with_orders: bool = False,
        extra: tuple[str, bool, int, int] | None = None,
    ) -> tuple[int, int, int]:
        """(equity, initial, maintenance) of the domain's cross positions margined in ``asset``.

        equity = free + reserved ``asset`` + Σ weighted unrealised PnL (profit × weight, rounded
        down; losses in full). ``with_orders`` adds the worst case of resting orders (and of
        ``extra`` = (market, is_buy, price, size), an order being placed) to the initial one.
        """
        acct = eng.accounts[account_id]
        eq = acct.held(asset) + self.holdings_value(eng, acct, asset)
        im = mm = 0
        for mid, pos in self.domains.get(account_id, {}).items():
            pm = self.markets[mid]
            if pos.mode != CROSS or pm.collateral != asset:
                continue
            m = eng.markets[mid]
            mark = self.mark(pm, m, ts)
            if mark is None:
                mark = extra[2] if extra is not None and extra[0] == mid else 0
            eq += weighted_pnl(pos.cash + pos.size * mark * m.tick, pm.weight_bps)
            x = extra[1:] if extra is not None and extra[0] == mid else None
            im_o, im_p, mm_p = self._market_req(m, pm, pos.size, acct, mark, x)
            im += im_o if with_orders else im_p
            mm += mm_p
        return eq, im, mm

    def holdings_value(self, eng: Engine, acct: Account, asset: str) -> int:
        """Weighted value, in ``asset``, of the domain's spot holdings and prediction shares.

        Per market with a non-zero weight whose quote is ``asset`` and whose book has both
        sides, at its mid ``floor((bid + ask) / 2)``: spot base ``floor(balance × mid × tick /
        lot)``; prediction YES shares at ``mid × tick``, NO at ``(max_price − mid) × tick``;
        then ``floor(value × weight / 10⁴)``. No two-sided book: the holding counts 0.
        """
        total = 0
        for mid_id, weight in self.weights.items():
            m = eng.markets[mid_id]
            if m.quote != asset:
                continue
            bb, ba = m.book.best_bid(), m.book.best_ask()
            if bb is None or ba is None:
                continue
            mid = (bb + ba) // 2
            if m.kind == "spot":
                value = acct.held(m.base) * mid * m.tick // m.lot
            else:
                pmk = eng.pred.markets[mid_id]
                value = (acct.held(pmk.yes) * mid + acct.held(pmk.no) * (pmk.max_price - mid)) * m.tick
            total += value * weight // BPS
        return total

    def _bought_value(self, eng: Engine, m: Market, is_yes: bool, lots: int) -> int:
        """What ``lots`` bought in a spot or prediction market count for in cross equity:
        ``holdings_value``'s rule for that quantity alone (mid x tick x weight, rounded down;
        0 without a weight or a two-sided book). Never more than the held quantity adds."""
        weight = self.weights.get(m.market_id, 0)
        bb, ba = m.book.best_bid(), m.book.best_ask()
        if not weight or bb is None or ba is None:
            return 0
        mid = (bb + ba) // 2
        if not is_yes:
            mid = eng.pred.markets[m.market_id].max_price - mid
        return lots * mid * m.tick * weight // BPS

    def check_collateral_buy(
        self, eng: Engine, acct: Account, m: Market, is_yes: bool, size: int, need: int, ts: int
    ) -> None:
        """Reject a spot or prediction buy that could take a cross domain below its initial requirement.

        The caller guards with ``account in perp.domains``, so other accounts never come here.
        Worst case: this buy and every resting spot or prediction buy of the domain fill in full
        at their limit prices. Their collateral (``need``: price x size plus the worst-case fee;
        the resting ones' reservations) leaves cross equity, and what they buy counts at mid x
        its weight (``_bought_value``). Accepted iff that equity still covers the initial
        requirement of the domain's cross positions and perp orders in the asset.
        """
        asset = m.quote
        account = acct.account_id
        if not any(
            p.mode == CROSS and self.markets[mid].collateral == asset for mid, p in self.domains[account].items()
        ):
            return  # no cross position in this asset: the buy cannot touch shared margin
        eq, im, _ = self.cross_margin(eng, account, asset, ts, with_orders=True)
        worst = eq - need + self._bought_value(eng, m, is_yes, size)
        no_orders = eng.pred.no_orders
        for o in acct.orders.values():
            om = eng.markets[o.market_id]
            if om.quote != asset or om.kind == "perp" or not o.reserved:
                continue
            no = o.order_id in no_orders
            if o.is_buy != no:  # a YES (or spot) buy, or a NO buy resting as a YES sell: it holds collateral
                worst -= o.reserved - self._bought_value(eng, om, not no, o.qty)
        if worst < im:
            _reject(
                RejectReason.INSUFFICIENT_MARGIN,
                f"cross equity after this buy's worst case {worst} < initial requirement {im}",
            )

    def isolated_margin(
        self, eng: Engine, pos: Position, ts: int, extra: tuple[bool, int, int] | None = None
    ) -> tuple[int, int, int, int]:
        """(equity, initial with orders, initial, maintenance) of an isolated position.

        equity = margin + cash + size × mark × tick: its own bucket, profit and loss in full.
        """
        pm = self.markets[pos.market_id]
        m = eng.markets[pos.market_id]
        mark = self.mark(pm, m, ts)
        if mark is None:
            mark = extra[1] if extra is not None else 0
        eq = pos.margin + pos.cash + pos.size * mark * m.tick
        im_o, im_p, mm_p = self._market_req(m, pm, pos.size, eng.accounts[pos.account], mark, extra)
        return eq, im_o, im_p, mm_p

    def under_maintenance(self, eng: Engine, ts: int) -> list[tuple[str, str]]:
        """Every margin domain below maintenance, sorted: (account, "") for a cross domain (any
        collateral asset), (account, market) for an isolated position. Read-only."""
        found: set[tuple[str, str]] = set()
        for aid in sorted(self.domains):
            assets = set()
            for mid, pos in self.domains[aid].items():
                if pos.mode == CROSS:
                    assets.add(self.markets[mid].collateral)
                elif pos.size or pos.cash or pos.margin:
                    eq, _, _, mm = self.isolated_margin(eng, pos, ts)
                    if eq < mm:
                        found.add((aid, mid))
            for asset in sorted(assets):
                eq, _, mm = self.cross_margin(eng, aid, asset, ts)
                if eq < mm:
                    found.add((aid, ""))
        return sorted(found)

    # -- orders --------------------------------------------------------------------------------

    def place_order(self, eng: Engine, c: C.PlaceOrder) -> list[Any]:
        """PlaceOrder into a perp market: margin-checked, settled into positions (not reservations)."""
        ts, account, market_id, side, price, size, order_type, tif, stp_name, cid, expiry, reduce_only, outcome = c
        m = eng.markets[market_id]
        pm = self.markets[market_id]
        acct = eng._trader(account)
        is_buy, stp = _order_shape(side, order_type, tif, stp_name)
        if outcome != "yes":
            _reject(RejectReason.INVALID_FIELD, f"outcome must be yes on a perp market, got {outcome!r}")
        if price <= 0:
            _reject(RejectReason.INVALID_PRICE, f"price must be a positive number of ticks, got {price}")
        _check_order_terms(size, m.min_size, expiry, ts, cid, acct.client_ids)
        book = m.book
        if tif == "post_only":
            _check_post_only(book, is_buy, price, f"{side} at {price}")
        pos = self.position(account, market_id)
        cur = pos.size if pos is not None else 0
        if reduce_only:
            if tif in _RESTING_TIFS:
                _reject(RejectReason.INVALID_FIELD, "a reduce-only order must be ioc or fok (it never rests)")
            if not (cur < 0 <= size + cur if is_buy else cur > 0 and size <= cur):
                _reject(RejectReason.REDUCE_ONLY_WOULD_INCREASE, f"{side} {size} does not reduce position {cur}")
        mode = pos.mode if pos is not None else self.default_mode(pm)
        buys = sum(o.qty for o in acct.orders.values() if o.market_id == market_id and o.is_buy)
        sells = sum(o.qty for o in acct.orders.values() if o.market_id == market_id and not o.is_buy)
        before = max(abs(cur + buys), abs(cur - sells))
        after = max(abs(cur + buys + (size if is_buy else 0)), abs(cur - sells - (0 if is_buy else size)))
        if after > before:  # the order adds risk: every check applies; reducing is always allowed
            if pm.access == "allowlist" and account_owner(account) not in pm.allowlist:
                _reject(RejectReason.ACCESS_DENIED, f"{market_id!r} is allowlist-only; reducing is still allowed")
            if mode == CROSS and pm.risk_class != _CROSS:
                _reject(RejectReason.ISOLATED_ONLY, f"{market_id!r} is isolated-only: use an isolated position")
            if after > pm.account_oi_cap:
                _reject(RejectReason.OI_CAP_EXCEEDED, f"worst case {after} lots > account cap {pm.account_oi_cap}")
            grow = max(0, abs(cur + (size if is_buy else -size)) - abs(cur))
            if pm.long_oi + grow > pm.oi_cap:
                _reject(RejectReason.OI_CAP_EXCEEDED, f"open interest {pm.long_oi} + {grow} > cap {pm.oi_cap}")
            if mode == CROSS:
                probe = None
                if pos is None:  # margin the domain as if the record existed
                    probe = Position(account, market_id, CROSS)
                    self.domains.setdefault(account, {})[market_id] = probe
                try:
                    eq, im, _ = self.cross_margin(
                        eng, account, pm.collateral, ts, True, (market_id, is_buy, price, size)
                    )
                finally:
                    if probe is not None:
                        del self.domains[account][market_id]
                        if not self.domains[account]:
                            del self.domains[account]
            else:
                iso = pos if pos is not None else Position(account, market_id, ISOLATED)
                eq, im, _, _ = self.isolated_margin(eng, iso, ts, (is_buy, price, size))
            if eq < im:
                _reject(RejectReason.INSUFFICIENT_MARGIN, f"{mode} equity {eq} < initial requirement {im}")
        if tif == "fok" and not book.can_fill(is_buy, price, size, account, ts, stp):
            _reject(RejectReason.FOK_CANNOT_FILL, f"cannot fill {size} lots at {price} or better right now")

        # ---- accepted ----
        account = acct.account_id
        market_id = m.market_id
        if pos is None:
            pos = self._new_position(account, market_id, mode)
        oid = eng.next_order_id
        eng.next_order_id = oid + 1
        if cid:
            acct.client_ids.add(cid)
        eng.seq += 1
        out: list[Any] = [
            E.OrderAccepted(eng.seq, market_id, oid, account, cid, side, order_type, tif, price, size, expiry)
        ]
        execs: list[tuple[Order, int]] = []
        if is_buy:
            rem, stopped = book.match_buy(price, size, account, ts, stp, execs)
        else:
            rem, stopped = book.match_sell(price, size, account, ts, stp, execs)
        self._settle_fills(eng, m, pm, pos, oid, side, is_buy, size, execs, out)
        if rem and not stopped and tif in _RESTING_TIFS:
            o = Order(oid, account, is_buy, price, rem, expiry, market_id, cid, size, 0, 0, tif, order_type)
            book.insert(o)
            eng.orders[oid] = o
            acct.orders[oid] = o
            if cid:
                acct.live_client[cid] = oid
        elif rem:
            eng.seq += 1
            reason = CancelReason.SELF_TRADE.value if stopped else CancelReason.IOC.value
            out.append(E.OrderCancelled(eng.seq, market_id, oid, account, rem, reason))
        return out

    def _settle_fills(
        self,
        eng: Engine,
        m: Market,
        pm: PerpMarket,
        taker: Position,
        oid: int,
        side: str,
        is_buy: bool,
        size: int,
        execs: list[tuple[Order, int]],
        out: list[Any],
        liquidation: bool = False,
    ) -> int:
        """Fees per fill: taker ``ceil(n × taker_bps / 10⁴)``; maker likewise, or a rebate of
        ``floor(n × |maker_bps| / 10⁴)``; paid from (rebates into) the position's cash.

        In a liquidation the taker pays ``ceil(n × liquidation_fee_bps / 10⁴)`` to the market's
        insurance fund instead, and makers get no rebate. Returns that total.
        """
        tick = m.tick
        filled = 0
        to_insurance = 0
        for o, code in execs:
            macct = eng.accounts[o.account]
            if code > 0:
                p = o.price
                n = p * code * tick
                tfee = ceil_div(n * m.taker_bps, BPS)
                mfee = ceil_div(n * m.maker_bps, BPS) if m.maker_bps >= 0 else -((n * -m.maker_bps) // BPS)
                net = tfee + mfee
                if liquidation:
                    tfee = ceil_div(n * self.params.liquidation_fee_bps, BPS)
                    mfee = max(mfee, 0)
                    net = mfee
                    to_insurance += tfee
                    eng.accounts[m.insurance_account].bal[m.quote].free += tfee
                filled += code
                maker = self.domains[o.account][m.market_id]
                trade_id = eng.next_trade_id
                eng.next_trade_id = trade_id + 1
                dep = net * m.share_bps // BPS
                m.deployer_quote.free += dep
                m.protocol_quote.free += net - dep
                pm.trades.append(p)
                if len(pm.trades) > TRADE_AVG_N:
                    del pm.trades[0]
                eng.seq += 1
                out.append(
                    E.Trade(
                        eng.seq, m.market_id, trade_id, p, code, side, oid, taker.account, o.order_id, o.account,
                        tfee, mfee, size - filled, o.qty,
                    )
                )  # fmt: skip
                self._fill(eng, m, pm, taker, code if is_buy else -code, n, tfee, out)
                self._fill(eng, m, pm, maker, -code if is_buy else code, n, mfee, out)
                if not o.qty:
                    del eng.orders[o.order_id]
                    del macct.orders[o.order_id]
                    if o.client_id:
                        del macct.live_client[o.client_id]
            else:  # maker removed unfilled: expired or self-trade prevention
                eng._drop(o, CancelReason.EXPIRED.value if code == EXPIRED else CancelReason.SELF_TRADE.value, out)
        return to_insurance

    def _fill(
        self, eng: Engine, m: Market, pm: PerpMarket, pos: Position, dq: int, n: int, fee: int, out: list[Any]
    ) -> None:
        old = pos.size
        pos.size = new = old + dq
        pos.cash -= (n if dq > 0 else -n) + fee
        pm.long_oi += max(new, 0) - max(old, 0)
        eng.seq += 1
        out.append(E.PositionChanged(eng.seq, m.market_id, pos.account, new, pos.cash, pos.mode, pos.margin))
        if new == 0:
            self._realise(eng, pm, pos, out)
        if self.index is not None:
            self.index.changed(pos)

    def _realise(self, eng: Engine, pm: PerpMarket, pos: Position, out: list[Any]) -> None:
        """A flat position settles into the ledger.

        Cross: positive cash is credited to free collateral; a loss is paid from free
        collateral as far as it goes, and the rest stays as ``cash`` (a debt counted in full
        in the domain's equity). Isolated: margin + cash goes back to free collateral if it is
        not negative; otherwise the margin is gone and the shortfall stays as debt on the
        record, never taken from the rest of the domain.
        """
        entry = eng.accounts[pos.account].entry(pm.collateral)
        if pos.mode == ISOLATED:
            total = pos.margin + pos.cash
            pos.margin = 0
            amount = max(total, 0)
            pos.cash = total - amount
        elif pos.cash >= 0:
            amount = pos.cash
            pos.cash = 0
        else:
            amount = -min(entry.free, -pos.cash)
            pos.cash -= amount
        entry.free += amount
        if amount or pos.cash:
            eng.seq += 1
            out.append(E.PnlRealized(eng.seq, pm.market_id, pos.account, amount, pos.cash))

    # -- margin modes ----------------------------------------------------------------------------

    def set_margin_mode(self, eng: Engine, c: C.SetMarginMode) -> list[Any]:
        acct = eng._trader(c.account)
        pm = self._perp(eng, c.market_id)
        if c.mode not in (CROSS, ISOLATED):
            _reject(RejectReason.INVALID_FIELD, f"mode must be cross or isolated, got {c.mode!r}")
        pos = self.position(c.account, c.market_id)
        if (pos is not None and (pos.size or pos.cash or pos.margin)) or any(
            o.market_id == c.market_id for o in acct.orders.values()
        ):
            _reject(RejectReason.POSITION_OPEN, "the mode changes only with no position, margin, debt or orders")
        if c.mode == CROSS and pm.risk_class != _CROSS:
            _reject(RejectReason.ISOLATED_ONLY, f"{c.market_id!r} is isolated-only")
        if pos is None:
            pos = self._new_position(acct.account_id, c.market_id, c.mode)
        pos.mode = c.mode
        if self.index is not None:
            self.index.changed(pos)
        eng.seq += 1
        return [E.MarginModeSet(eng.seq, c.market_id, c.account, c.mode)]

    def adjust_isolated_margin(self, eng: Engine, c: C.AdjustIsolatedMargin) -> list[Any]:
        acct = eng._trader(c.account)
        pm = self._perp(eng, c.market_id)
        if c.amount == 0:
            _reject(RejectReason.INVALID_AMOUNT, "amount must not be 0")
        pos = self.position(c.account, c.market_id)
        if pos is not None and pos.mode != ISOLATED:
            _reject(RejectReason.MARGIN_MODE_MISMATCH, "the position is cross; isolated margin does not apply")
        asset = pm.collateral
        if c.amount > 0:
            free = self.free_collateral(eng, c.account, asset, c.ts)
            if free < c.amount:
                _reject(RejectReason.INSUFFICIENT_BALANCE, f"free collateral {free} {asset} < {c.amount}")
        else:
            take = -c.amount
            if pos is None or take > pos.margin:
                _reject(RejectReason.INSUFFICIENT_MARGIN, f"the position has less than {take} isolated margin")
            eq, im, _, _ = self.isolated_margin(eng, pos, c.ts)
            if eq - take < im:
                _reject(RejectReason.INSUFFICIENT_MARGIN, f"equity {eq} - {take} < initial requirement {im}")
        if pos is None:
            pos = self._new_position(acct.account_id, c.market_id, ISOLATED)
        acct.entry(asset).free -= c.amount
        pos.margin += c.amount
        if self.index is not None:
            self.index.changed(pos)
        eng.seq += 1
        return [E.IsolatedMarginAdjusted(eng.seq, c.market_id, c.account, c.amount, pos.margin)]

    # -- oracle, funding, halt -------------------------------------------------------------------

    def oracle_price(self, eng: Engine, c: C.OraclePrice) -> list[Any]:
        pm = self._perp(eng, c.market_id)
        if eng.markets[c.market_id].status != MarketStatus.ACTIVE:
            _reject(RejectReason.MARKET_HALTED, f"market {c.market_id!r} is halted")
        if c.source != pm.oracle_source:
            _reject(RejectReason.ORACLE_SOURCE_MISMATCH, f"the spec's oracle source is {pm.oracle_source!r}")
        kind, _, ref = pm.oracle_source.partition(":")
        if kind == "index":
            bb, ba = eng.markets[ref].book.best_bid(), eng.markets[ref].book.best_ask()
            if c.price != 0 or bb is None or ba is None:
                _reject(RejectReason.INVALID_PRICE, "an index oracle has price 0 and needs a two-sided index book")
            price = (bb + ba) // 2
        else:
            price = c.price
            if price <= 0:
                _reject(RejectReason.INVALID_PRICE, f"oracle price must be positive, got {price}")
        p = self.params
        if pm.oracle and c.ts - pm.oracle_ts < p.oracle_min_interval_ms:
            _reject(RejectReason.ORACLE_TOO_SOON, f"last push at {pm.oracle_ts}; wait {p.oracle_min_interval_ms} ms")
        out: list[Any] = []
        new, clamped, prev = price, False, pm.oracle
        if prev:
            step = max(1, prev * p.oracle_max_move_bps // BPS)
            new = min(max(price, prev - step), prev + step)
            clamped = new != price
        pm.oracle, pm.oracle_ts, pm.clamped = new, c.ts, clamped
        eng.seq += 1
        out.append(E.OraclePriceSet(eng.seq, c.market_id, new, price, clamped))
        if clamped:
            eng.seq += 1
            out.append(E.OracleGuard(eng.seq, c.market_id, "clamped", f"pushed {price}, moved {prev} -> {new}"))
        return out

    def liquidations_paused(self, pm: PerpMarket, ts: int) -> bool:
        """While the oracle is stale (or missing) or its last push was clamped."""
        return pm.clamped or not self.oracle_fresh(pm, ts)

    def funding_tick(self, eng: Engine, c: C.FundingTick) -> list[Any]:
        pm = self._perp(eng, c.market_id)
        m = eng.markets[c.market_id]
        if m.status != MarketStatus.ACTIVE:
            _reject(RejectReason.MARKET_HALTED, f"market {c.market_id!r} is halted")
        p = self.params
        if c.ts < pm.funding_ts + p.funding_interval_ms:
            _reject(RejectReason.FUNDING_NOT_DUE, f"next funding at {pm.funding_ts + p.funding_interval_ms}")
        pm.funding_ts = c.ts
        out: list[Any] = []
        mark = self.mark(pm, m, c.ts)
        mk = mark or 0
        rate = 0
        if not self.oracle_fresh(pm, c.ts) or mark is None:
            eng.seq += 1
            out.append(E.OracleGuard(eng.seq, c.market_id, "stale", "no fresh oracle: funding rate 0"))
        else:
            d = mark - pm.oracle
            r = min(abs(d) * BPS // pm.oracle, p.funding_clamp_bps)  # toward zero, then clamped
            rate = r if d >= 0 else -r
        paid = received = 0
        if rate:
            for aid in sorted(pm.holders):
                pos = pm.holders[aid]
                if not pos.size:
                    continue
                n = abs(pos.size) * mk * m.tick
                if (pos.size > 0) == (rate > 0):
                    amount = ceil_div(n * abs(rate), BPS)
                    paid += amount
                else:
                    amount = -(n * abs(rate) // BPS)
                    received -= amount
                pos.cash -= amount
                if self.index is not None:
                    self.index.changed(pos)
                eng.seq += 1
                out.append(E.FundingPayment(eng.seq, c.market_id, aid, amount))
        rest = paid - received
        if rest:
            eng.accounts[eng.markets[c.market_id].insurance_account].bal[pm.collateral].free += rest
        eng.seq += 1
        out.append(E.FundingSettled(eng.seq, c.market_id, rate, mk, pm.oracle, paid, received, rest))
        return out

    def settle_halt(self, eng: Engine, m: Market, price: int | None, out: list[Any]) -> None:
        """Close every position at ``price`` (the mark when the halt came), by account id, and cover
        the debt of losers whose domain cannot pay within the halt: from the market's insurance
        fund, then from the winners' settlement profits pro rata (docs/engine.md, "Halt debt")."""
        pm = self.markets[m.market_id]
        if price is None:
            return  # no mark has ever existed, so no trade and no position either
        settled = [(aid, pm.holders[aid]) for aid in sorted(pm.holders) if pm.holders[aid].size]
        asset = pm.collateral
        # what each record holds after settling, before it realises: losers' shortfalls, winners' profits
        debts: dict[str, int] = {}
        profits: dict[str, int] = {}
        for aid, pos in settled:
            cash = pos.cash + pos.size * price * m.tick
            if cash > 0:
                profits[aid] = cash
            elif cash < 0:
                cover = pos.margin if pos.mode == ISOLATED else eng.accounts[aid].free_of(asset)
                if cover < -cash:
                    debts[aid] = -cash - cover
        fund = eng.accounts[m.insurance_account].entry(asset)
        debt = sum(debts.values())
        from_fund = min(fund.free, debt)
        cuts = _pro_rata(min(debt - from_fund, sum(profits.values())), profits)
        for aid, pos in settled:
            size = pos.size
            pos.cash += size * price * m.tick
            pos.size = 0
            eng.seq += 1
            out.append(E.PositionSettled(eng.seq, m.market_id, aid, size, price))
            cut = cuts.get(aid, 0)
            if cut:  # the winner's settlement credit shrinks; the amount goes to the fund for the losers
                pos.cash -= cut
                fund.free += cut
                eng.seq += 1
                out.append(E.HaltHaircut(eng.seq, m.market_id, aid, profits[aid], cut))
            self._realise(eng, pm, pos, out)
            if self.index is not None:
                self.index.changed(pos)
        pm.long_oi = 0
        if debt:
            from_winners = sum(cuts.values())
            for aid in sorted(debts):  # the fund (with the haircuts) pays each debt in full, by account id
                pos = pm.holders[aid]
                pay = min(fund.free, -pos.cash)
                if pay:
                    fund.free -= pay
                    pos.cash += pay
                    if self.index is not None:
                        self.index.changed(pos)
                    eng.seq += 1
                    out.append(E.InsuranceCovered(eng.seq, m.market_id, aid, pay))
            left = debt - from_fund - from_winners
            eng.seq += 1
            out.append(E.HaltDebtCovered(eng.seq, m.market_id, debt, from_fund, from_winners, left))

    def resume_market(self, eng: Engine, c: C.ResumeMarket) -> list[Any]:
        self._perp(eng, c.market_id)
        m = eng.markets[c.market_id]
        if m.status != MarketStatus.HALTED:
            _reject(RejectReason.HALT_REQUIRED, f"market {c.market_id!r} is not halted")
        m.status = MarketStatus.ACTIVE.value
        eng.seq += 1
        return [E.MarketResumed(eng.seq, c.market_id)]

    # -- accounts ----------------------------------------------------------------------------

    def free_collateral(self, eng: Engine, account_id: str, asset: str, ts: int) -> int:
        """What the domain may move out of ``asset`` now: its free balance, but no more than
        cross equity less the initial requirement of its cross positions and orders.

        Without cross positions or orders in ``asset`` this is the free balance.
        """
        acct = eng.accounts.get(account_id)
        if acct is None:
            return 0
        free = acct.free_of(asset)
        if account_id not in self.domains and not acct.orders:
            return free
        eq, im, _ = self.cross_margin(eng, account_id, asset, ts, with_orders=True)
        return max(0, min(free, eq - im))

    def subaccount_transfer(self, eng: Engine, c: C.SubaccountTransfer) -> list[Any]:
        max_sub = self.params.max_subaccounts
        src = parse_account(c.account, max_sub)
        dst = parse_account(c.to_account, max_sub)
        if src is None or dst is None:
            bad = c.account if src is None else c.to_account
            _reject(RejectReason.INVALID_ACCOUNT, f"{bad!r} is not <address> or <address>:<1..{max_sub}>")
        if src[0] != dst[0] or c.account == c.to_account:
            _reject(RejectReason.OWNER_MISMATCH, "a sub-account transfer moves funds between two domains of one wallet")
        acct = eng._trader(c.account)
        if not c.asset:
            _reject(RejectReason.INVALID_FIELD, "asset must not be empty")
        if c.amount <= 0:
            _reject(RejectReason.INVALID_AMOUNT, f"transfer amount must be positive, got {c.amount}")
        free = self.free_collateral(eng, c.account, c.asset, c.ts)
        if free < c.amount:
            _reject(RejectReason.INSUFFICIENT_BALANCE, f"free collateral {free} {c.asset} < {c.amount}")
        to = eng._account(c.to_account)
        asset = intern(c.asset)
        acct.bal[asset].free -= c.amount
        to.entry(asset).free += c.amount
        eng.pred.note_holder(c.to_account, asset)  # prediction shares move too (payout index)
        eng.seq += 1
        return [E.SubaccountTransferred(eng.seq, c.account, c.to_account, c.asset, c.amount)]

    # -- risk classes ------------------------------------------------------------------------

    def graduation_blockers(self, pm: PerpMarket, ts: int) -> list[str]:
        """Why the market cannot graduate now (empty: it meets the rule)."""
        p = self.params
        why = []
        if ts - pm.launch_ts < p.graduation_min_age_ms:
            why.append("age")
        if pm.bond < p.graduation_min_bond:
            why.append("bond")
        if pm.long_oi < p.graduation_min_oi_lots:
            why.append("open_interest")
        if pm.open_cases:
            why.append("open_case")
        return why

    def graduation_tick(self, eng: Engine, c: C.GraduationTick) -> list[Any]:
        out: list[Any] = []
        for mid in sorted(self.markets):
            pm = self.markets[mid]
            if pm.pinned or pm.risk_class != _ISOLATED or eng.markets[mid].status != "active":
                continue
            if not self.graduation_blockers(pm, c.ts):
                pm.risk_class = _CROSS
                eng.seq += 1
                out.append(E.RiskClassChanged(eng.seq, mid, _CROSS, _ISOLATED, "graduation", ""))
        return out

    def set_risk_class(self, eng: Engine, c: C.SetRiskClass) -> list[Any]:
        pm = self._perp(eng, c.market_id)
        if c.risk_class not in (_ISOLATED, _CROSS):
            _reject(
                RejectReason.INVALID_FIELD, f"risk_class must be isolated_only or cross_eligible, got {c.risk_class!r}"
            )
        previous = pm.risk_class
        pm.risk_class = c.risk_class
        pm.pinned = True
        eng.seq += 1
        return [E.RiskClassChanged(eng.seq, c.market_id, c.risk_class, previous, "governance", c.case_id)]

    def governance_case(self, eng: Engine, c: C.GovernanceCase) -> list[Any]:
        pm = self._perp(eng, c.market_id)
        if not c.case_id:
            _reject(RejectReason.INVALID_FIELD, "case_id must not be empty")
        if c.status == "open":
            if c.case_id in pm.open_cases:
                _reject(RejectReason.INVALID_FIELD, f"case {c.case_id!r} is already open")
            pm.open_cases.append(c.case_id)
        elif c.status == "closed":
            if c.case_id not in pm.open_cases:
                _reject(RejectReason.INVALID_FIELD, f"case {c.case_id!r} is not open")
            pm.open_cases.remove(c.case_id)
        else:
            _reject(RejectReason.INVALID_FIELD, f"status must be open or closed, got {c.status!r}")
        eng.seq += 1
        return [E.GovernanceCaseUpdated(eng.seq, c.market_id, c.case_id, c.status, len(pm.open_cases))]

    # -- access policy -----------------------------------------------------------------------------

    def set_allowlist(self, eng: Engine, c: C.SetAllowlist) -> list[Any]:
        pm = self._perp(eng, c.market_id)
        if c.deployer != eng.markets[c.market_id].deployer:
            _reject(RejectReason.NOT_DEPLOYER, "only the market's deployer keeps its allowlist")
        if pm.access != "allowlist":
            _reject(RejectReason.INVALID_FIELD, f"{c.market_id!r} is open to everyone")
        parsed = parse_account(c.wallet, self.params.max_subaccounts)
        if parsed is None or parsed[1] != 0:
            _reject(RejectReason.INVALID_ACCOUNT, f"{c.wallet!r} is not a wallet address")
        members = set(pm.allowlist)
        if c.allowed:
            members.add(c.wallet)
        else:
            members.discard(c.wallet)
        pm.allowlist = sorted(members)
        eng.seq += 1
        return [E.AllowlistChanged(eng.seq, c.market_id, c.wallet, c.allowed)]

    # -- liquidation -------------------------------------------------------------------------------

    def _health(self, eng: Engine, account: str, records: list[Position], asset: str, ts: int) -> tuple[int, int]:
        """(equity, maintenance) of what a Liquidate command works on."""
        if records[0].mode == ISOLATED:
            eq, _, _, mm = self.isolated_margin(eng, records[0], ts)
            return eq, mm
        eq, _, mm = self.cross_margin(eng, account, asset, ts)
        return eq, mm

    def liquidate(self, eng: Engine, c: C.Liquidate) -> list[Any]:
        acct = eng._trader(c.account)
        p = self.params
        ts = c.ts
        records: list[Position] = []
        asset = ""
        if c.market_id:
            pm0 = self._perp(eng, c.market_id)
            pos = self.position(c.account, c.market_id)
            if pos is None or pos.mode != ISOLATED:
                _reject(RejectReason.MARGIN_MODE_MISMATCH, 'no isolated position here (cross: market_id "")')
            records, asset = [pos], pm0.collateral
        else:
            cross = [r for _, r in sorted(self.domains.get(c.account, {}).items()) if r.mode == CROSS]
            for a in sorted({self.markets[r.market_id].collateral for r in cross}):
                eq, _, mm = self.cross_margin(eng, c.account, a, ts)
                if eq < mm:
                    asset = a
                    records = [r for r in cross if self.markets[r.market_id].collateral == a]
                    break
        if not records:
            _reject(RejectReason.ABOVE_MAINTENANCE, f"{c.account!r} meets maintenance")
        eq, mm = self._health(eng, c.account, records, asset, ts)
        if eq >= mm:
            _reject(RejectReason.ABOVE_MAINTENANCE, f"equity {eq} >= maintenance {mm}")
        for r in records:
            if r.size and self.liquidations_paused(self.markets[r.market_id], ts):
                _reject(RejectReason.LIQUIDATION_PAUSED, f"{r.market_id!r}: oracle stale or clamped")
        out: list[Any] = []
        eng.seq += 1
        out.append(E.LiquidationStarted(eng.seq, c.account, c.market_id, eq, mm))
        # 1. cancel the domain's orders in the markets concerned, lowest id first
        mids = {r.market_id for r in records}
        for oid in sorted(acct.orders):
            o = acct.orders[oid]
            if o.market_id in mids:
                eng.markets[o.market_id].book.remove(o)
                eng._drop(o, CancelReason.LIQUIDATION.value, out)
        sides = {r.market_id: (1 if r.size > 0 else -1) for r in records if r.size}
        # 2. bounded IOC steps against the book, only as far as needed
        for _ in range(p.liquidation_max_steps):
            eq, mm = self._health(eng, c.account, records, asset, ts)
            opened = [r for r in records if r.size]
            if eq >= mm or not opened:
                break
            marks = {}
            for r in opened:
                marks[r.market_id] = self.mark(self.markets[r.market_id], eng.markets[r.market_id], ts) or 0
            pick = max(opened, key=lambda r: (abs(r.size) * marks[r.market_id], r.market_id))
            m, pm = eng.markets[pick.market_id], self.markets[pick.market_id]
            mark = marks[pick.market_id]
            unit = mark * m.tick
            mm_bps = tier_for(pm.tiers, abs(pick.size) * unit)[2]
            gain = unit * (mm_bps - p.liquidation_fee_bps) // BPS  # maintenance freed per lot, net of fee
            need = ceil_div(mm - eq, gain) if gain > 0 else abs(pick.size)
            q = min(abs(pick.size), p.liquidation_step_lots, need)
            is_buy = pick.size < 0
            slip = ceil_div(mark * p.liquidation_slippage_bps, BPS)
            limit = mark + slip if is_buy else max(1, mark - slip)
            execs: list[tuple[Order, int]] = []
            if is_buy:
                rem, _ = m.book.match_buy(limit, q, c.account, ts, STP_RESTING, execs)
            else:
                rem, _ = m.book.match_sell(limit, q, c.account, ts, STP_RESTING, execs)
            side = "buy" if is_buy else "sell"
            fee = self._settle_fills(eng, m, pm, pick, 0, side, is_buy, q, execs, out, liquidation=True)
            filled = q - rem
            eng.seq += 1
            out.append(E.LiquidationStep(eng.seq, c.account, pick.market_id, filled if is_buy else -filled, fee))
            if not filled:
                break
        # 3. a fully closed domain's debt: the market's insurance fund, then ADL in that market
        debt_left = 0
        if not any(r.size for r in records):
            for r in sorted(records, key=lambda r: r.market_id):
                if r.cash < 0:
                    debt_left += self._cover(eng, r, sides.get(r.market_id, 0), ts, out)
        eq, mm = self._health(eng, c.account, records, asset, ts)
        eng.seq += 1
        out.append(E.LiquidationFinished(eng.seq, c.account, c.market_id, eq, mm, eq >= mm, debt_left))
        return out

    def _cover(self, eng: Engine, rec: Position, side: int, ts: int, out: list[Any]) -> int:
        """Pay a flat record's debt from its market's insurance fund, then by ADL; return what is left.

        ADL takes from the unrealised profit of the positions on the other side of the closed one
        (all if its side is unknown), most profitable first, then the most leveraged, then by
        account id: each gives up to its whole profit, moved as cash, so the sum stays exact.
        """
        pm, m = self.markets[rec.market_id], eng.markets[rec.market_id]
        fund = eng.accounts[m.insurance_account].entry(pm.collateral)
        pay = min(fund.free, -rec.cash)
        if pay:
            fund.free -= pay
            rec.cash += pay
            if self.index is not None:
                self.index.changed(rec)
            eng.seq += 1
            out.append(E.InsuranceCovered(eng.seq, rec.market_id, rec.account, pay))
        if rec.cash >= 0:
            return 0
        mark = self.mark(pm, m, ts) or 0
        ranked = []
        for aid in sorted(pm.holders):
            other = pm.holders[aid]
            if aid == rec.account or not other.size or (side and (other.size > 0) == (side > 0)):
                continue
            upnl = other.cash + other.size * mark * m.tick
            if upnl <= 0:
                continue
            notional = abs(other.size) * mark * m.tick
            iso = other.mode == ISOLATED
            base = other.margin + upnl if iso else self.cross_margin(eng, aid, pm.collateral, ts)[0]
            leverage = notional * BPS // max(base, 1)
            ranked.append((-upnl, -leverage, aid, other, upnl))
        ranked.sort(key=lambda x: (x[0], x[1], x[2]))
        for _, _, aid, other, upnl in ranked:
            if rec.cash >= 0:
                break
            take = min(upnl, -rec.cash)
            other.cash -= take
            rec.cash += take
            if self.index is not None:
                self.index.changed(other)
                self.index.changed(rec)
            eng.seq += 1
            out.append(E.Deleveraged(eng.seq, rec.market_id, aid, rec.account, take))
        return -rec.cash

    # -- trigger orders ----------------------------------------------------------------------------

    def place_trigger(self, eng: Engine, c: C.PlaceTrigger) -> list[Any]:
        acct = eng._trader(c.account)
        self._perp(eng, c.market_id)
        if eng.markets[c.market_id].status != MarketStatus.ACTIVE:
            _reject(RejectReason.MARKET_HALTED, f"market {c.market_id!r} is halted")
        if c.trigger_price <= 0 or c.price < 0:
            _reject(RejectReason.INVALID_PRICE, "trigger_price must be positive and price not negative")
        oco = 0
        side = c.side
        if c.kind in ("stop_market", "stop_limit"):
            if side not in ("buy", "sell"):
                _reject(RejectReason.INVALID_FIELD, f"side must be buy or sell, got {side!r}")
            if c.size <= 0:
                _reject(RejectReason.INVALID_SIZE, "a stop order needs a positive size")
            if c.kind == "stop_limit" and c.price <= 0:
                _reject(RejectReason.INVALID_PRICE, "a stop-limit order needs its limit price")
        elif c.kind in ("take_profit", "stop_loss"):
            pos = self.position(c.account, c.market_id)
            if pos is None or not pos.size:
                _reject(RejectReason.REDUCE_ONLY_WOULD_INCREASE, "a TP / SL attaches to an open position")
            if side or c.size < 0:
                _reject(RejectReason.INVALID_FIELD, "a TP / SL takes no side (it closes) and size >= 0")
            side = "sell" if pos.size > 0 else "buy"
            other = "stop_loss" if c.kind == "take_profit" else "take_profit"
            for tid in sorted(self.triggers):  # one cancels the other: the newest TP pairs with the open SL
                row = self.triggers[tid]
                if row[0] == c.account and row[1] == c.market_id and row[2] == other and row[7] == 0:
                    oco = tid
        else:
            _reject(RejectReason.INVALID_FIELD, "kind must be stop_market, stop_limit, take_profit or stop_loss")
        tid = self.next_trigger_id
        self.next_trigger_id = tid + 1
        self.triggers[tid] = [acct.account_id, c.market_id, c.kind, side, c.trigger_price, c.price, c.size, oco]
        if oco:
            self.triggers[oco][7] = tid
        eng.seq += 1
        return [
            E.TriggerPlaced(eng.seq, tid, c.market_id, c.account, c.kind, side, c.trigger_price, c.price, c.size, oco)
        ]

    def cancel_trigger(self, eng: Engine, c: C.CancelTrigger) -> list[Any]:
        eng._trader(c.account)
        row = self.triggers.get(c.trigger_id)
        if row is None:
            _reject(RejectReason.UNKNOWN_ORDER, f"no trigger {c.trigger_id}")
        if row[0] != c.account:
            _reject(RejectReason.NOT_YOUR_ORDER, f"trigger {c.trigger_id} belongs to another account")
        out: list[Any] = []
        self._drop_trigger(eng, c.trigger_id, "user", out)
        return out

    def _drop_trigger(self, eng: Engine, tid: int, reason: str, out: list[Any]) -> None:
        row = self.triggers.pop(tid)
        oco = row[7]
        if oco in self.triggers:
            self.triggers[oco][7] = 0
        eng.seq += 1
        out.append(E.TriggerCancelled(eng.seq, tid, row[1], row[0], reason))

    @staticmethod
    def _reached(kind: str, side: str, trigger: int, mark: int) -> bool:
        """Whether the mark fires a trigger whose order is on ``side``.

        A stop (and a stop-loss) fires when the mark reaches the trigger moving against the
        position the order protects: a buy at or above it, a sell at or below it. A take-profit
        fires the other way: its closing sell at or above the trigger, its closing buy at or below.
        """
        if kind == "take_profit":
            return mark <= trigger if side == "buy" else mark >= trigger
        return mark >= trigger if side == "buy" else mark <= trigger

    def trigger_tick(self, eng: Engine, c: C.TriggerTick) -> list[Any]:
        """Fire every trigger the mark has reached, lowest id first; then, since those fills can
        move the mark and reach further triggers, again with the new mark, for at most
        ``max_trigger_rounds`` rounds. A round that fires nothing ends the tick."""
        pm = self._perp(eng, c.market_id)
        m = eng.markets[c.market_id]
        if m.status != MarketStatus.ACTIVE:
            _reject(RejectReason.MARKET_HALTED, f"market {c.market_id!r} is halted")
        out: list[Any] = []
        rounds = self.params.max_trigger_rounds
        for _ in range(rounds):
            mark = self.mark(pm, m, c.ts)
            if mark is None or not self._trigger_round(eng, c, mark, out):
                break
        else:
            # every round fired: if the last fills' mark reaches more, say so, so the sequencer
            # ticks again at once instead of leaving reached stops waiting for the next trade
            mark = self.mark(pm, m, c.ts)
            if mark is not None and self._reached_ids(c.market_id, mark):
                eng.seq += 1
                out.append(E.TriggersPending(eng.seq, c.market_id, mark, rounds))
        return out

    def _reached_ids(self, market_id: str, mark: int) -> list[int]:
        """Ids of ``market_id``'s triggers that ``mark`` reaches, lowest first."""
        return [
            tid
            for tid in sorted(self.triggers)
            if self.triggers[tid][1] == market_id
            and self._reached(self.triggers[tid][2], self.triggers[tid][3], self.triggers[tid][4], mark)
        ]

    def _trigger_round(self, eng: Engine, c: C.TriggerTick, mark: int, out: list[Any]) -> bool:
        """Fire the triggers of ``c.market_id`` that ``mark`` reaches, lowest id first; any fired?"""
        slip = ceil_div(mark * self.params.trigger_slippage_bps, BPS)
        fired = self._reached_ids(c.market_id, mark)
        for tid in fired:
            row = self.triggers.get(tid)
            if row is None:  # its OCO partner fired first
                continue
            account, mid, kind, side, _trigger, price, size, oco = row
            del self.triggers[tid]
            if oco in self.triggers:
                self._drop_trigger(eng, oco, "oco", out)
            eng.seq += 1
            out.append(E.TriggerFired(eng.seq, tid, mid, mark))
            is_buy = side == "buy"
            protect = price or (mark + slip if is_buy else max(1, mark - slip))
            reduce = kind in ("take_profit", "stop_loss")
            if reduce:
                pos = self.position(account, mid)
                held = abs(pos.size) if pos is not None else 0
                if not held or (pos is not None and (pos.size > 0) == is_buy):
                    eng.seq += 1
                    out.append(E.TriggerCancelled(eng.seq, tid, mid, account, "flat"))
                    continue
                size = min(size or held, held)
            if kind == "stop_limit":
                cmd = C.PlaceOrder(c.ts, account, mid, side, price, size)
            else:
                cmd = C.PlaceOrder(c.ts, account, mid, side, protect, size, "market", "ioc", reduce_only=reduce)
            try:
                out += self.place_order(eng, cmd)
            except _Reject as r:
                eng.seq += 1
                out.append(E.TriggerCancelled(eng.seq, tid, mid, account, r.reason.value))
        return bool(fired)


def _pro_rata(total: int, weights: dict[str, int]) -> dict[str, int]:
    """Split ``total`` (at most the sum of ``weights``) in proportion to the weights, exactly.

    Each key gets ``floor(total × w / W)``; the few units left (fewer than there are keys) go one
    each to the largest remainders ``total × w mod W``, ties to the lower key. No key gets more
    than its weight: below ``W`` the floor is under ``w`` and leaves room for the extra unit.
    """
    if total <= 0:
        return {}
    whole = sum(weights.values())
    shares = {k: total * w // whole for k, w in weights.items()}
    rest = total - sum(shares.values())
    for k in sorted(weights, key=lambda k: (-(total * weights[k] % whole), k))[:rest]:
        shares[k] += 1
    return {k: v for k, v in shares.items() if v}
