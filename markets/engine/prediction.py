"""Prediction markets (issue 13): binary YES/NO shares, multi-outcome groups, resolution.

Everything prediction-specific lives here; ``Engine`` dispatches to it. A prediction market
uses the engine's ``Market`` (book, fees, status) and ledger; this module adds the share
assets, the collateral pools and the resolution state. See docs/engine.md "Prediction markets".

Terms:
- the *share unit* is the spec's ``lot_size``: collateral minor units one share pays when it
  wins. ``max_price = lot_size // tick_size`` ticks are worth one share unit.
- a *pool* is what is resolved and what holds collateral: a standalone binary market, or a
  multi-outcome group. Its collateral sits in the ledger account ``sys:collateral:<pool id>``.
- one book per market, in YES price. A NO order at ``q`` sits in it as the opposite YES order
  at ``max_price - q``. Which orders are NO orders is kept in ``Prediction.no_orders``.
"""

from __future__ import annotations

from sys import intern
from typing import TYPE_CHECKING, Any, Final

from . import commands as C
from . import events as E
from .book import EXPIRED, Order
from .engine import (
    _C_EXPIRED,
    _C_IOC,
    _C_SELF_TRADE,
    _RESTING_TIFS,
    _SIDES,
    BPS,
    MAX_FEE_BPS,
    SYSTEM_PREFIX,
    Market,
    _Cancelled,
    _check_order_kind,
    _check_order_terms,
    _check_post_only,
    _new,
    _order_id,
    _reject,
    _stp_code,
    _stp_of,
    _walk,
    insurance_account,
)
from .enums import CancelReason, MarketStatus, Outcome, RejectReason, ResolutionStatus, Settlement
from .ledger import Account, Balance

if TYPE_CHECKING:
    from .engine import Engine

__all__ = [
    "Prediction",
    "MIN_DISPUTE_WINDOW_MS",
    "MIN_DISPUTE_BOND_UNITS",
    "collateral_account",
    "dispute_escrow_account",
    "yes_asset",
    "no_asset",
]

MIN_DISPUTE_WINDOW_MS: Final = 2 * 60 * 60 * 1000  # protocol floor: two hours
MIN_DISPUTE_BOND_UNITS: Final = 10  # protocol floor: the bond is at least 10 share units of collateral
OTHER: Final = "other"
_RULES: Final = ("none", "other")
_YES: Final = Outcome.YES.value
_NO: Final = Outcome.NO.value
_INVALID: Final = Outcome.INVALID.value
_S_OPEN: Final = ResolutionStatus.OPEN.value
_S_PROPOSED: Final = ResolutionStatus.PROPOSED.value
_S_DISPUTED: Final = ResolutionStatus.DISPUTED.value
_S_FINAL: Final = ResolutionStatus.FINAL.value
_ACTIVE: Final = MarketStatus.ACTIVE.value
_PredAccepted: Final = E.PredictionOrderAccepted
_PredTrade: Final = E.PredictionTrade
_TRANSFER: Final = Settlement.TRANSFER.value
_MINT: Final = Settlement.MINT.value
_BURN: Final = Settlement.BURN.value


def _fast_shape(side: str, outcome: str, order_type: str, tif: str, stp_name: str) -> tuple[bool, bool, bool, int]:
    """(buys its own outcome, is a YES order, may rest, stp code) of an order the hot path takes: a
    limit gtc or ioc order, either side and outcome, any stp. Stp code -1: not one of those, the
    general path decides it. String comparisons: compiled, cheaper than one five-field key."""
    ok = order_type == "limit"
    own_buy = side == "buy"
    if not own_buy and side != "sell":
        ok = False
    is_yes = outcome == _YES
    if not is_yes and outcome != _NO:
        ok = False
    rests = tif == "gtc"
    if not rests and tif != "ioc":
        ok = False
    return own_buy, is_yes, rests, _stp_of(stp_name) if ok else -1


def yes_asset(market_id: str) -> str:
    return f"{market_id}:YES"


def no_asset(market_id: str) -> str:
    return f"{market_id}:NO"


def collateral_account(pool_id: str) -> str:
    """Ledger account holding the collateral of every complete set of a pool."""
    return f"{SYSTEM_PREFIX}collateral:{pool_id}"


def dispute_escrow_account(pool_id: str) -> str:
    """Ledger account holding a posted dispute bond until the committee decides."""
    return f"{SYSTEM_PREFIX}dispute:{pool_id}"


class PMarket:
    """The prediction part of one market: share assets and supplies."""

    __slots__ = (
        "market_id",
        "pool_id",
        "pool",
        "outcome",
        "yes",
        "no",
        "unit",
        "max_price",
        "yes_supply",
        "no_supply",
        "holders",
    )

    def __init__(self, market_id: str, pool: Pool, outcome: str, unit: int, max_price: int) -> None:
        self.market_id = market_id
        self.pool_id = pool.pool_id
        self.pool = pool
        self.outcome = outcome
        # interned like the ledger's other keys: balance lookups hit on identity
        self.yes = intern(yes_asset(market_id))
        self.no = intern(no_asset(market_id))
        self.unit = unit
        self.max_price = max_price
        self.yes_supply = 0
        self.no_supply = 0
        # accounts with a ledger entry for YES or NO (every holder, and former ones until
        # the payout): the payout walks these, not every account. Derived from the ledger,
        # so not snapshotted; Prediction.restore rebuilds it
        self.holders: set[str] = set()


class Pool:
    """A resolvable unit holding collateral: a standalone binary market or a multi-outcome group."""

    __slots__ = (
        "pool_id",
        "is_group",
        "members",
        "size",
        "collateral",
        "unit",
        "tick",
        "close_ts",
        "resolver",
        "window",
        "bond",
        "invalid_bps",
        "rule",
        "deployer",
        "status",
        "proposed",
        "proposed_ts",
        "deadline",
        "disputer",
        "decided",
        "final",
        "coll_account",
    )

    def __init__(self, pool_id: str, is_group: bool, c: C.LaunchMarket) -> None:
        self.pool_id = pool_id
        self.coll_account = collateral_account(pool_id)  # derived, not snapshotted
        self.is_group = is_group
        self.members: list[str] = []  # market ids in launch order
        self.size = c.group_size if is_group else 1  # outcomes needed to be formed
        self.collateral = intern(c.quote_asset)  # as the ledger keys it
        self.unit = c.lot_size
        self.tick = c.tick_size
        self.close_ts = c.close_ts
        self.resolver = c.resolver
        self.window = c.dispute_window_ms
        self.bond = c.dispute_bond
        self.invalid_bps = c.invalid_split_bps
        self.rule = c.add_outcome_rule
        self.deployer = c.deployer
        self.status = _S_OPEN
        self.proposed = ""  # proposed outcome
        self.proposed_ts = 0
        self.deadline = 0  # disputes accepted while ts < deadline
        self.disputer = ""
        self.decided = False  # the committee decided (no second dispute)
        self.final = ""  # final outcome

    def row(self) -> dict[str, Any]:
        return {
            "is_group": self.is_group,
            "members": list(self.members),
            "size": self.size,
            "collateral": self.collateral,
            "unit": self.unit,
            "tick": self.tick,
            "close_ts": self.close_ts,
            "resolver": self.resolver,
            "window": self.window,
            "bond": self.bond,
            "invalid_bps": self.invalid_bps,
            "rule": self.rule,
            "deployer": self.deployer,
            "status": self.status,
            "proposed": self.proposed,
            "proposed_ts": self.proposed_ts,
            "deadline": self.deadline,
            "disputer": self.disputer,
            "decided": self.decided,
            "final": self.final,
        }


class Prediction:
    """All prediction state of one Engine. Methods take the engine, whose ledger they change."""

    def __init__(self) -> None:
        self.markets: dict[str, PMarket] = {}
        self.pools: dict[str, Pool] = {}
        self.no_orders: set[int] = set()  # ids of resting NO orders
        self.share_markets: dict[str, PMarket] = {}  # YES / NO asset -> its market (derived)

    # -- snapshot ----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "markets": {
                mid: [pm.pool_id, pm.outcome, pm.unit, pm.max_price, pm.yes_supply, pm.no_supply]
                for mid, pm in self.markets.items()
            },
            "pools": {pid: p.row() for pid, p in self.pools.items()},
            "no_orders": sorted(self.no_orders),
        }

    def restore(self, snap: dict[str, Any], eng_accounts: dict[str, Account]) -> None:
        for pid, row in snap["pools"].items():
            p = Pool(pid, row["is_group"], C.BLANK_LAUNCH)  # every snapshotted field is then set from the row
            for key, value in row.items():
                setattr(p, key, list(value) if key == "members" else value)
            p.collateral = intern(p.collateral)
            self.pools[pid] = p
        for mid, (pool_id, outcome, unit, max_price, ys, ns) in snap["markets"].items():
            pm = PMarket(mid, self.pools[pool_id], outcome, unit, max_price)
            pm.yes_supply = ys
            pm.no_supply = ns
            self.markets[mid] = pm
            self.share_markets[pm.yes] = self.share_markets[pm.no] = pm
        self.no_orders = set(snap["no_orders"])
        self.rebuild_holders(eng_accounts)

    def rebuild_holders(self, accounts: dict[str, Account]) -> None:
        """Recompute every market's holder index from the ledger (after restore)."""
        for pm in self.markets.values():
            pm.holders = set()
        by_asset = self.share_markets
        for aid, acct in accounts.items():
            for asset in acct.bal:
                held = by_asset.get(asset)
                if held is not None:
                    held.holders.add(aid)

    def note_holder(self, account_id: str, asset: str) -> None:
        """``account_id`` got a ledger entry for ``asset``: index it if that is a share asset.

        For commands outside this module that move any asset (SubaccountTransfer).
        """
        pm = self.share_markets.get(asset)
        if pm is not None:
            pm.holders.add(account_id)

    # -- helpers -----------------------------------------------------------------------------

    def locked_asset(self, o: Order) -> str:
        """The asset a resting order holds: collateral for own-outcome buys, shares for sells."""
        pm = self.markets[o.market_id]
        if o.order_id in self.no_orders:
            return self.pools[pm.pool_id].collateral if not o.is_buy else pm.no
        return self.pools[pm.pool_id].collateral if o.is_buy else pm.yes

    def _pmarket(self, eng: Engine, market_id: str) -> tuple[PMarket, Pool]:
        pm = self.markets.get(market_id)
        if pm is None:
            if market_id in eng.markets:
                _reject(RejectReason.INVALID_FIELD, f"{market_id!r} is not a prediction market")
            _reject(RejectReason.UNKNOWN_MARKET, f"no market {market_id!r}")
        return pm, self.pools[pm.pool_id]

    def _pool(self, pool_id: str) -> Pool:
        p = self.pools.get(pool_id)
        if p is None:
            pm = self.markets.get(pool_id)
            if pm is not None:
                _reject(RejectReason.INVALID_FIELD, f"{pool_id!r} belongs to group {pm.pool_id!r}: use the group id")
            _reject(RejectReason.UNKNOWN_MARKET, f"no prediction market or group {pool_id!r}")
        return p

    @staticmethod
    def _not_halted(eng: Engine, market_ids: list[str], what: str) -> None:
        """Refuse new exposure while a market is halted (docs/engine.md "Halted prediction markets")."""
        for mid in market_ids:
            if eng.markets[mid].status != _ACTIVE:
                _reject(RejectReason.MARKET_HALTED, f"market {mid!r} is halted: no {what}")

    @staticmethod
    def _not_final(p: Pool) -> None:
        if p.status == _S_FINAL:
            _reject(RejectReason.MARKET_RESOLVED, f"{p.pool_id!r} is resolved ({p.final})")

    # -- launch ------------------------------------------------------------------------------

    def launch(self, eng: Engine, c: C.LaunchMarket) -> list[Any]:
        """LaunchMarket for kind="prediction" (generic id checks already ran in the engine)."""
        bad = RejectReason.BAD_MARKET_SPEC
        if c.market_id in self.pools:
            _reject(RejectReason.DUPLICATE_MARKET_ID, f"{c.market_id!r} is a group id")
        if c.base_asset:
            _reject(bad, "a prediction market has no base asset: its shares are <market_id>:YES / :NO")
        if not c.quote_asset:
            _reject(bad, "quote_asset (the collateral) must be set")
        if c.tick_size <= 0 or c.lot_size <= 0 or c.min_size <= 0:
            _reject(bad, "tick_size, lot_size and min_size must be positive")
        if c.lot_size % c.tick_size or c.lot_size // c.tick_size < 2:
            _reject(bad, "lot_size (the share unit) must be a multiple of tick_size, at least 2 ticks")
        if not 0 <= c.taker_fee_bps <= MAX_FEE_BPS or not 0 <= c.maker_fee_bps <= MAX_FEE_BPS:
            _reject(bad, f"fees must be within 0..{MAX_FEE_BPS} bps (no maker rebates on prediction markets)")
        if not 0 <= c.deployer_fee_share_bps <= BPS:
            _reject(bad, f"deployer_fee_share_bps must be within 0..{BPS}")
        if not c.deployer or c.deployer.startswith(SYSTEM_PREFIX):
            _reject(bad, "deployer must be an address")
        if c.close_ts <= c.ts:
            _reject(bad, f"close_ts {c.close_ts} must be after ts {c.ts}")
        if not c.resolver or c.resolver.startswith(SYSTEM_PREFIX):
            _reject(bad, "resolver must be an address")
        if c.dispute_window_ms < MIN_DISPUTE_WINDOW_MS:
            _reject(bad, f"dispute_window_ms must be at least {MIN_DISPUTE_WINDOW_MS}")
        if c.dispute_bond < MIN_DISPUTE_BOND_UNITS * c.lot_size:
            _reject(bad, f"dispute_bond must be at least {MIN_DISPUTE_BOND_UNITS} share units")
        if not 0 <= c.invalid_split_bps <= BPS:
            _reject(bad, f"invalid_split_bps must be within 0..{BPS}")
        if c.add_outcome_rule not in _RULES:
            _reject(bad, f"add_outcome_rule must be none or other, got {c.add_outcome_rule!r}")
        gid = c.group_id
        group: Pool | None = None
        if not gid:
            if c.group_size or c.outcome or c.add_outcome_rule != "none":
                _reject(bad, "group_size, outcome and add_outcome_rule are for group members only")
        else:
            if gid in eng.markets or gid.startswith(SYSTEM_PREFIX) or gid == c.market_id:
                _reject(bad, f"group id {gid!r} clashes with a market id")
            if c.group_size < 2 or not c.outcome:
                _reject(bad, "a group member needs group_size >= 2 and an outcome name")
            group = self.pools.get(gid)
            if group is not None:
                if len(group.members) >= group.size:
                    _reject(RejectReason.GROUP_FORMED, f"group {gid!r} is complete: use add_outcome")
                if c.ts >= group.close_ts or group.status != _S_OPEN:
                    _reject(RejectReason.MARKET_CLOSED, f"group {gid!r} is closed")
                self._not_halted(eng, group.members, "new outcome in its group")
                first = eng.markets[group.members[0]]
                same = (
                    c.quote_asset == group.collateral
                    and c.tick_size == group.tick
                    and c.lot_size == group.unit
                    and c.close_ts == group.close_ts
                    and c.resolver == group.resolver
                    and c.dispute_window_ms == group.window
                    and c.dispute_bond == group.bond
                    and c.invalid_split_bps == group.invalid_bps
                    and c.add_outcome_rule == group.rule
                    and c.group_size == group.size
                    and c.deployer == first.deployer
                )
                if not same:
                    _reject(bad, f"the group spec of {c.market_id!r} differs from group {gid!r}'s")
                if any(self.markets[mid].outcome == c.outcome for mid in group.members):
                    _reject(bad, f"group {gid!r} already has an outcome {c.outcome!r}")
                if (
                    c.add_outcome_rule == "other"
                    and len(group.members) + 1 == group.size
                    and c.outcome != OTHER
                    and all(self.markets[mid].outcome != OTHER for mid in group.members)
                ):
                    _reject(bad, 'add_outcome_rule "other" needs an outcome named "other" in the group')
        out: list[Any] = []
        if group is None:
            group = Pool(gid or c.market_id, bool(gid), c)
            self.pools[group.pool_id] = group
            for acct_id in (collateral_account(group.pool_id), insurance_account(group.pool_id)):
                eng._account(acct_id).entry(group.collateral)
        self._add_market(eng, c, group, out)
        return out

    def _add_market(self, eng: Engine, c: C.LaunchMarket, pool: Pool, out: list[Any]) -> None:
        _, launched = eng._open_market(c)
        out.append(launched)
        pm = PMarket(c.market_id, pool, c.outcome, c.lot_size, c.lot_size // c.tick_size)
        self.markets[c.market_id] = pm
        self.share_markets[pm.yes] = self.share_markets[pm.no] = pm
        pool.members.append(c.market_id)
        eng.seq += 1
        out.append(
            E.PredictionMarketLaunched(
                eng.seq,
                c.market_id,
                c.quote_asset,
                pm.yes,
                pm.no,
                pm.unit,
                pm.max_price,
                pool.close_ts,
                pool.resolver,
                pool.window,
                pool.bond,
                pool.invalid_bps,
                c.group_id,
                pool.size if pool.is_group else 0,
                c.outcome,
                pool.rule,
                pool.pool_id,
                collateral_account(pool.pool_id),
            )
        )

    # -- orders ------------------------------------------------------------------------------

    def place_order(self, eng: Engine, c: C.PlaceOrder, m: Market) -> list[Any]:
        """PlaceOrder into a prediction market (also refuses outcome != "yes" on spot).

        Hot path: a valid limit gtc / ioc order, checked and settled inline. Anything else,
        including every order that would be rejected, goes to ``_place_general``, which
        decides it from scratch: this path only takes orders that one would accept, and
        leaves the same balances and events (rules: docs/engine.md "Prediction fills").
        """
        ts, account, market_id, side, price, size, order_type, tif, stp_name, cid, expiry, reduce_only, outcome = c
        if reduce_only:
            return self._place_general(eng, c, m)
        own_buy, is_yes, rests, stp = _fast_shape(side, outcome, order_type, tif, stp_name)
        pm = self.markets.get(market_id)
        acct = eng.accounts.get(account)
        if stp < 0 or pm is None or acct is None or acct.system:
            return self._place_general(eng, c, m)
        pool = pm.pool
        top = pm.max_price
        if (
            ts >= pool.close_ts
            or pool.status == _S_FINAL
            or not 0 < price < top
            or size < m.min_size
            or (expiry and expiry <= ts)
            or (cid and cid in acct.client_ids)
        ):
            return self._place_general(eng, c, m)
        is_buy = own_buy is is_yes  # a YES-book bid: a YES buy, or a NO sell
        book_side = "buy" if is_buy else "sell"
        tick = m.tick
        bal = acct.bal
        coll = m.quote  # the pool's collateral, as the ledger's interned key
        if own_buy:
            need = price * size * tick
            pays = bal.get(coll)  # the taker's entry of what it pays with
            if pays is None or pays.free < need - (need * m.take_bps) // -BPS or account in eng.perp.domains:
                return self._place_general(eng, c, m)  # a margin domain's buy is margin-checked there
        else:
            pays = bal.get(pm.yes if is_yes else pm.no)
            if pays is None or pays.free < size:
                return self._place_general(eng, c, m)

        # ---- accepted: from here on nothing may reject ----
        seq = eng.seq + 1
        oid = eng.next_order_id
        eng.next_order_id = oid + 1
        if cid:
            acct.client_ids.add(cid)
        bprice = price if is_yes else top - price
        out: list[Any] = [
            _new(
                _PredAccepted,
                (
                    seq,
                    market_id,
                    oid,
                    account,
                    cid,
                    outcome,
                    side,
                    order_type,
                    tif,
                    price,
                    size,
                    expiry,
                    book_side,
                    bprice,
                ),
            )
        ]
        book = m.book
        # most orders do not reach the other side: no fills list for them
        execs: list[tuple[Order, int]] | None = None
        stopped = False
        if is_buy:
            heap = book.ask_heap
            if heap and heap[0] <= bprice:
                execs = []
                rem, stopped = book.match_buy(bprice, size, account, ts, stp, execs)
        else:
            heap = book.bid_heap
            if heap and -heap[0] >= bprice:
                execs = []
                rem, stopped = book.match_sell(bprice, size, account, ts, stp, execs)
        if execs:
            seq, taker_w, t_coll, moved = self._settle_fills(
                eng, m, pm, execs, seq, out, oid, account, outcome, side, size, is_buy, is_yes, own_buy
            )
            # taker settlement: what it received; what it paid leaves `pays` below
            if own_buy:
                _share_entry(acct, pm.yes if is_yes else pm.no, pm.holders).free += moved
                spent = t_coll
            else:
                acct.entry(coll).free += t_coll
                spent = moved
        else:
            # most orders do not reach the other side: nothing filled, nothing spent
            rem = size
            taker_w = spent = 0
        if rem and rests and not stopped:
            if own_buy:
                hold = price * rem * tick
                rest_bps = m.rest_bps  # == maker_bps: no rebates on prediction markets
                if rest_bps:
                    hold += (taker_w // -BPS) - ((taker_w + hold * rest_bps) // -BPS)
            else:
                hold = rem
            o = Order(
                oid, account, is_buy, bprice, rem, expiry, market_id, cid, size, hold, taker_w, tif, order_type, pays
            )
            book.insert(o)
            live: dict[Any, Order] = eng.orders  # by Order.key
            live[o.key] = o
            held_by: dict[Any, Order] = acct.orders
            held_by[o.key] = o
            if cid:
                acct.live_client[cid] = oid
            if not is_yes:
                no_orders: set[Any] = self.no_orders  # by Order.key
                no_orders.add(o.key)
        else:
            hold = 0
            if rem:
                seq += 1
                out.append(_new(_Cancelled, (seq, market_id, oid, account, rem, _C_SELF_TRADE if stopped else _C_IOC)))
        # the taker's own balances change once, by the net result (as in Engine._place_order):
        # reserving the worst case up front and releasing it by fills and at rest ends the same
        pays.free -= spent + hold
        pays.reserved += hold
        eng.seq = seq
        return out

    def _settle_fills(
        self,
        eng: Engine,
        m: Market,
        pm: PMarket,
        execs: list[tuple[Order, int]],
        seq: int,
        out: list[Any],
        oid: int,
        account: str,
        outcome: str,
        side: str,
        size: int,
        is_buy: bool,
        is_yes: bool,
        own_buy: bool,
    ) -> tuple[int, int, int, int]:
        """Settle a taker's matches in order: fills (mint, transfer or burn), makers removed unfilled,
        supplies and fees; every maker's balances, not the taker's (its caller settles those once).

        ``seq`` is the last sequence number used. Returns ``(seq, taker_w, t_coll, moved)``: the
        last sequence number, the taker's fee weight, the collateral it spent (a buy, fees
        included) or received (a sell, net of fees), and the shares it bought or delivered.
        Rules: docs/engine.md "Prediction fills".
        """
        pool = pm.pool
        top = pm.max_price
        tick = m.tick
        coll = m.quote  # the pool's collateral, as the ledger's interned key
        market_id = m.market_id
        rest_bps = m.rest_bps  # == maker_bps: no rebates on prediction markets
        accounts = eng.accounts
        orders: dict[Any, Order] = eng.orders  # by Order.key
        no_orders: set[Any] = self.no_orders
        holders = pm.holders
        yes_a = pm.yes
        no_a = pm.no
        tbps = m.taker_bps
        share = m.share_bps
        trade_id = eng.next_trade_id
        taker_w = 0
        fee_total = 0
        dep_total = 0
        t_coll = 0  # buy: collateral spent incl. fees; sell: received net of fees
        moved = 0  # shares bought / delivered
        net_sets = 0  # complete sets minted (+) or burned (-)
        new = _new
        Trade = _PredTrade
        m_side = not is_buy  # the makers' side of the YES book
        for o, code in execs:
            macct = accounts[o.account]
            moid = o.order_id
            key = o.key
            m_yes = key not in no_orders
            m_buy = m_side is m_yes
            if code > 0:
                b = o.price
                tp = b if is_yes else top - b
                mp = b if m_yes else top - b
                nt = tp * code * tick
                tw2 = taker_w + nt * tbps
                tfee = (taker_w // -BPS) - (tw2 // -BPS)
                taker_w = tw2
                nm = mp * code * tick
                if rest_bps:
                    mw = o.fee_w
                    mw2 = mw + nm * rest_bps
                    mfee = (mw // -BPS) - (mw2 // -BPS)
                    o.fee_w = mw2
                else:
                    mfee = 0
                moved += code
                mq = o.qty
                held = o.hold  # the maker's entry of what it reserved
                assert held is not None, "a resting prediction order holds collateral or shares"
                if m_buy:
                    # the maker pays its price and fee out of its reservation (collateral) and
                    # gets shares; what the reservation held beyond that (often nothing) goes
                    # back to free
                    old = o.reserved
                    if mq:
                        new_need = mp * mq * tick
                        if rest_bps:
                            new_need += (mw2 // -BPS) - ((mw2 + new_need * rest_bps) // -BPS)
                        o.reserved = new_need
                        held.reserved -= old - new_need
                        back = old - nm - mfee - new_need
                    else:
                        o.reserved = 0
                        held.reserved -= old
                        back = old - nm - mfee
                    if back:
                        held.free += back
                    _share_entry(macct, yes_a if m_yes else no_a, holders).free += code
                    if own_buy:
                        t_coll += nt + tfee
                        settlement = _MINT
                        net_sets += code  # nt + nm == code * unit
                    else:
                        t_coll += nt - tfee
                        settlement = _TRANSFER
                else:
                    # the maker delivers reserved shares and gets its price net of fee
                    o.reserved -= code
                    held.reserved -= code
                    macct.entry(coll).free += nm - mfee
                    if own_buy:
                        t_coll += nt + tfee
                        settlement = _TRANSFER
                    else:
                        t_coll += nt - tfee
                        settlement = _BURN
                        net_sets -= code
                net = tfee + mfee
                if net:
                    fee_total += net
                    dep_total += net * share // BPS
                seq += 1
                out.append(
                    new(
                        Trade,
                        (
                            seq,
                            market_id,
                            trade_id,
                            b,
                            code,
                            settlement,
                            oid,
                            account,
                            outcome,
                            side,
                            tp,
                            moid,
                            o.account,
                            _YES if m_yes else _NO,
                            "buy" if m_buy else "sell",
                            mp,
                            tfee,
                            mfee,
                            size - moved,
                            mq,
                        ),
                    )
                )
                trade_id += 1
                if not mq:
                    del orders[key]
                    mine: dict[Any, Order] = macct.orders
                    del mine[key]
                    if o.client_id:
                        del macct.live_client[o.client_id]
                    if not m_yes:
                        no_orders.discard(key)
            else:
                # maker removed unfilled: expired or self-trade prevention (rare: no inlining)
                eng.seq = seq
                eng._drop(o, _C_EXPIRED if code == EXPIRED else _C_SELF_TRADE, out)
                seq = eng.seq
        eng.next_trade_id = trade_id
        if net_sets:
            pm.yes_supply += net_sets
            pm.no_supply += net_sets
            accounts[pool.coll_account].bal[coll].free += net_sets * pm.unit
        if fee_total:
            m.deployer_quote.free += dep_total
            m.protocol_quote.free += fee_total - dep_total
        return seq, taker_w, t_coll, moved

    def _place_general(self, eng: Engine, c: C.PlaceOrder, m: Market) -> list[Any]:
        """Every PlaceOrder the hot path does not take: all shapes, and every reject reason in order."""
        ts, account, market_id, side, price, size, order_type, tif, stp_name, cid, expiry, reduce_only, outcome = c
        pm = self.markets.get(market_id)
        if pm is None:
            _reject(RejectReason.INVALID_FIELD, f"outcome must be yes on a {m.kind} market, got {outcome!r}")
        pool = pm.pool
        acct = eng.accounts.get(account)
        if acct is None or acct.system:
            acct = eng._trader(account)
        if pool.status == _S_FINAL:
            _reject(RejectReason.MARKET_RESOLVED, f"{pool.pool_id!r} is resolved")
        if ts >= pool.close_ts:
            _reject(RejectReason.MARKET_CLOSED, f"trading closed at {pool.close_ts}, ts is {ts}")
        own_buy = _SIDES.get(side)
        if own_buy is None:
            _reject(RejectReason.INVALID_FIELD, f"side must be buy or sell, got {side!r}")
        if outcome == _YES:
            is_yes = True
        elif outcome == _NO:
            is_yes = False
        else:
            _reject(RejectReason.INVALID_FIELD, f"outcome must be yes or no, got {outcome!r}")
        _check_order_kind(order_type, tif)
        stp = _stp_code(stp_name)
        if reduce_only:
            _reject(RejectReason.NOT_SUPPORTED, "reduce_only does not apply to prediction markets")
        top = pm.max_price
        if not 0 < price < top:
            _reject(
                RejectReason.INVALID_PRICE,
                f"price must be strictly between 0 and {top} ticks (0 and 1 share unit), got {price}",
            )
        _check_order_terms(size, m.min_size, expiry, ts, cid, acct.client_ids)
        # where the order sits in the YES book
        is_buy = own_buy if is_yes else not own_buy
        bprice = price if is_yes else top - price
        book = m.book
        if tif == "post_only":
            what = f"{side} {outcome} at {price} (a YES-book {'bid' if is_buy else 'ask'} at {bprice})"
            _check_post_only(book, is_buy, bprice, what)
        tick = m.tick
        if own_buy:
            asset = pool.collateral
            notional = price * size * tick
            need = notional - (notional * (m.rest_bps if tif == "post_only" else m.take_bps)) // -BPS
        else:
            asset = pm.yes if is_yes else pm.no
            need = size
        bal = acct.bal
        pays = bal.get(asset)  # the taker's entry of what it pays with
        free = 0 if pays is None else pays.free
        if pays is None or free < need:
            if own_buy:
                _reject(
                    RejectReason.INSUFFICIENT_BALANCE,
                    f"needs {need} {asset} (price, size and worst-case fee), free balance is {free}",
                )
            _reject(RejectReason.INSUFFICIENT_SHARES, f"selling {size} {asset} needs them held and free, has {free}")
        if own_buy and account in eng.perp.domains:  # a margin domain's buy may lower cross equity
            eng.perp.check_collateral_buy(eng, acct, m, is_yes, size, need, ts)
        if tif == "fok" and not book.can_fill(is_buy, bprice, size, account, ts, stp):
            _reject(RejectReason.FOK_CANNOT_FILL, f"cannot fill {size} lots at {price} or better right now")

        # ---- accepted: from here on nothing may reject ----
        seq = eng.seq
        oid = eng.next_order_id
        eng.next_order_id = oid + 1
        pays.free = free - need
        pays.reserved += need
        if cid:
            acct.client_ids.add(cid)
        seq += 1
        book_side = "buy" if is_buy else "sell"
        out: list[Any] = [
            _new(
                _PredAccepted,
                (
                    seq,
                    market_id,
                    oid,
                    account,
                    cid,
                    outcome,
                    side,
                    order_type,
                    tif,
                    price,
                    size,
                    expiry,
                    book_side,
                    bprice,
                ),
            )
        ]
        execs: list[tuple[Order, int]] = []
        rem = size
        stopped = False
        if is_buy:
            heap = book.ask_heap
            if heap and heap[0] <= bprice:
                rem, stopped = book.match_buy(bprice, size, account, ts, stp, execs)
        else:
            heap = book.bid_heap
            if heap and -heap[0] >= bprice:
                rem, stopped = book.match_sell(bprice, size, account, ts, stp, execs)

        taker_w = 0
        coll = pool.collateral
        if execs:
            # the same settlement as the hot path's; the taker's own balances are settled below
            seq, taker_w, t_coll, moved = self._settle_fills(
                eng, m, pm, execs, seq, out, oid, account, outcome, side, size, is_buy, is_yes, own_buy
            )
            # taker settlement
            if own_buy:
                pays.reserved -= t_coll  # pays is the collateral entry
                need -= t_coll
                _share_entry(acct, pm.yes if is_yes else pm.no, pm.holders).free += moved
            else:
                pays.reserved -= moved  # pays is the shares' entry
                need -= moved
                acct.entry(coll).free += t_coll

        if rem and not stopped and tif in _RESTING_TIFS:
            if own_buy:
                rn = price * rem * tick
                new_need = rn + (taker_w // -BPS) - ((taker_w + rn * m.rest_bps) // -BPS)
            else:
                new_need = rem
            if need != new_need:
                pays.reserved -= need - new_need
                pays.free += need - new_need
            o = Order(
                oid, account, is_buy, bprice, rem, expiry, market_id, cid, size, new_need, taker_w, tif, order_type,
                pays,
            )  # fmt: skip
            book.insert(o)
            eng.orders[oid] = o
            acct.orders[oid] = o
            if cid:
                acct.live_client[cid] = oid
            if not is_yes:
                self.no_orders.add(oid)
        else:
            if need:
                pays.reserved -= need
                pays.free += need
            if rem:
                seq += 1
                out.append(_new(_Cancelled, (seq, market_id, oid, account, rem, _C_SELF_TRADE if stopped else _C_IOC)))
        eng.seq = seq
        return out

    # -- split / merge / convert --------------------------------------------------------------

    def split(self, eng: Engine, c: C.Split) -> list[Any]:
        pm, pool = self._pmarket(eng, c.market_id)
        acct = eng._trader(c.account)
        self._not_final(pool)
        self._not_halted(eng, [c.market_id], "new sets")
        if c.ts >= pool.close_ts:
            _reject(RejectReason.MARKET_CLOSED, f"{pool.pool_id!r} closed at {pool.close_ts}: no new sets")
        if c.amount <= 0:
            _reject(RejectReason.INVALID_AMOUNT, f"amount must be positive, got {c.amount}")
        cost = c.amount * pm.unit
        coll = pool.collateral
        free = acct.free_of(coll)
        if free < cost:
            _reject(RejectReason.INSUFFICIENT_BALANCE, f"splitting {c.amount} needs {cost} {coll}, free is {free}")
        acct.bal[coll].free = free - cost
        eng.accounts[pool.coll_account].bal[coll].free += cost
        _credit(acct, pm.yes, c.amount)
        _credit(acct, pm.no, c.amount)
        pm.holders.add(acct.account_id)
        pm.yes_supply += c.amount
        pm.no_supply += c.amount
        eng.seq += 1
        return [E.SharesSplit(eng.seq, c.market_id, c.account, c.amount, cost)]

    def merge(self, eng: Engine, c: C.Merge) -> list[Any]:
        pm, pool = self._pmarket(eng, c.market_id)
        acct = eng._trader(c.account)
        self._not_final(pool)
        if c.amount <= 0:
            _reject(RejectReason.INVALID_AMOUNT, f"amount must be positive, got {c.amount}")
        for asset in (pm.yes, pm.no):
            held = acct.free_of(asset)
            if held < c.amount:
                _reject(
                    RejectReason.INSUFFICIENT_SHARES, f"merging {c.amount} needs {c.amount} free {asset}, has {held}"
                )
        acct.bal[pm.yes].free -= c.amount
        acct.bal[pm.no].free -= c.amount
        pm.yes_supply -= c.amount
        pm.no_supply -= c.amount
        value = c.amount * pm.unit
        coll = pool.collateral
        eng.accounts[pool.coll_account].bal[coll].free -= value
        acct.entry(coll).free += value
        eng.seq += 1
        return [E.SharesMerged(eng.seq, c.market_id, c.account, c.amount, value)]

    def convert_no(self, eng: Engine, c: C.ConvertNo) -> list[Any]:
        pool = self.pools.get(c.group_id)
        if pool is None or not pool.is_group:
            _reject(RejectReason.UNKNOWN_GROUP, f"no group {c.group_id!r}")
        acct = eng._trader(c.account)
        self._not_final(pool)
        self._not_halted(eng, pool.members, "conversion in its group")
        if len(pool.members) < pool.size:
            _reject(
                RejectReason.GROUP_NOT_FORMED,
                f"group {c.group_id!r} has {len(pool.members)} of {pool.size} outcomes",
            )
        if c.amount <= 0:
            _reject(RejectReason.INVALID_AMOUNT, f"amount must be positive, got {c.amount}")
        picked = c.market_ids.split(",") if c.market_ids else []
        if not picked or len(set(picked)) != len(picked):
            _reject(RejectReason.INVALID_FIELD, "market_ids must list one or more member markets, each once")
        members = set(pool.members)
        for mid in picked:
            if mid not in members:
                _reject(RejectReason.INVALID_FIELD, f"{mid!r} is not an outcome of group {c.group_id!r}")
        for mid in picked:
            asset = self.markets[mid].no
            held = acct.free_of(asset)
            if held < c.amount:
                _reject(
                    RejectReason.INSUFFICIENT_SHARES, f"converting {c.amount} needs {c.amount} free {asset}, has {held}"
                )
        chosen = set(picked)
        others = [mid for mid in pool.members if mid not in chosen]
        for mid in picked:
            pm = self.markets[mid]
            acct.bal[pm.no].free -= c.amount
            pm.no_supply -= c.amount
        for mid in others:
            pm = self.markets[mid]
            _credit(acct, pm.yes, c.amount)
            pm.holders.add(acct.account_id)
            pm.yes_supply += c.amount
        value = (len(picked) - 1) * c.amount * pool.unit
        coll = pool.collateral
        if value:
            eng.accounts[pool.coll_account].bal[coll].free -= value
            acct.entry(coll).free += value
        eng.seq += 1
        return [E.NoConverted(eng.seq, c.group_id, c.account, c.market_ids, ",".join(others), c.amount, value)]

    def add_outcome(self, eng: Engine, c: C.AddOutcome) -> list[Any]:
        pool = self.pools.get(c.group_id)
        if pool is None or not pool.is_group:
            _reject(RejectReason.UNKNOWN_GROUP, f"no group {c.group_id!r}")
        if c.account != pool.deployer:
            _reject(RejectReason.NOT_DEPLOYER, f"only the group's deployer {pool.deployer!r} may add outcomes")
        self._not_final(pool)
        self._not_halted(eng, pool.members, "new outcome in its group")
        if c.ts >= pool.close_ts or pool.status != _S_OPEN:
            _reject(RejectReason.MARKET_CLOSED, f"group {c.group_id!r} is closed")
        if len(pool.members) < pool.size:
            _reject(RejectReason.GROUP_NOT_FORMED, f"group {c.group_id!r} is still forming: launch members instead")
        if pool.rule != "other":
            _reject(RejectReason.OUTCOME_NOT_ALLOWED, f"group {c.group_id!r} allows no new outcomes")
        other = next(mid for mid in pool.members if self.markets[mid].outcome == OTHER)
        opm = self.markets[other]
        om = eng.markets[other]
        if opm.yes_supply or opm.no_supply or om.book.bids or om.book.asks:
            _reject(
                RejectReason.OUTCOME_NOT_ALLOWED,
                f"the other outcome {other!r} has shares or orders: carving it now would change their payoff",
            )
        if not c.outcome or any(self.markets[mid].outcome == c.outcome for mid in pool.members):
            _reject(RejectReason.INVALID_FIELD, f"outcome {c.outcome!r} is empty or already in the group")
        if not c.market_id or c.market_id in eng.markets or c.market_id in self.pools:
            _reject(RejectReason.DUPLICATE_MARKET_ID, f"market id {c.market_id!r} is empty or taken")
        spec = C.LaunchMarket(
            c.ts,
            c.market_id,
            "prediction",
            "",
            pool.collateral,
            om.tick,
            om.lot,
            om.min_size,
            om.maker_bps,
            om.taker_bps,
            om.share_bps,
            om.deployer,
            pool.close_ts,
            pool.resolver,
            pool.window,
            pool.bond,
            pool.invalid_bps,
            pool.pool_id,
            pool.size + 1,
            c.outcome,
            pool.rule,
        )
        pool.size += 1
        out: list[Any] = []
        self._add_market(eng, spec, pool, out)
        eng.seq += 1
        out.append(E.OutcomeAdded(eng.seq, c.group_id, c.market_id, c.outcome, other, pool.size))
        return out

    # -- resolution --------------------------------------------------------------------------

    def _check_outcome(self, pool: Pool, outcome: str) -> None:
        if pool.is_group:
            if outcome != _INVALID and outcome not in pool.members:
                _reject(RejectReason.INVALID_FIELD, f"outcome must be a member market id or invalid, got {outcome!r}")
        elif outcome not in (_YES, _NO, _INVALID):
            _reject(RejectReason.INVALID_FIELD, f"outcome must be yes, no or invalid, got {outcome!r}")

    def propose(self, eng: Engine, c: C.ProposeResolution) -> list[Any]:
        pool = self._pool(c.market_id)
        if c.account != pool.resolver:
            _reject(RejectReason.NOT_RESOLVER, f"only the resolver {pool.resolver!r} may propose")
        self._not_final(pool)
        if pool.status != _S_OPEN:
            _reject(RejectReason.ALREADY_PROPOSED, f"{pool.pool_id!r} already has a proposal ({pool.proposed})")
        if c.ts < pool.close_ts:
            _reject(RejectReason.MARKET_NOT_CLOSED, f"{pool.pool_id!r} closes at {pool.close_ts}, ts is {c.ts}")
        self._check_outcome(pool, c.outcome)
        out: list[Any] = []
        # the book is dead since close_ts; clear it now, lowest order id first
        resting: list[Order] = []
        for mid in pool.members:
            book = eng.markets[mid].book
            resting.extend(o for side in (True, False) for lvl in book.levels(side) for o in _walk(lvl.head))
        resting.sort(key=_order_id)
        for o in resting:
            eng.markets[o.market_id].book.remove(o)
            eng._drop(o, CancelReason.MARKET_CLOSED.value, out)
        pool.status = _S_PROPOSED
        pool.proposed = c.outcome
        pool.proposed_ts = c.ts
        pool.deadline = c.ts + pool.window
        eng.seq += 1
        out.append(E.ResolutionProposed(eng.seq, pool.pool_id, c.account, c.outcome, pool.deadline))
        return out

    def dispute(self, eng: Engine, c: C.Dispute) -> list[Any]:
        pool = self._pool(c.market_id)
        acct = eng._trader(c.account)
        if pool.decided:
            _reject(RejectReason.ALREADY_DECIDED, f"the committee already decided {pool.pool_id!r}")
        self._not_final(pool)
        if pool.status == _S_OPEN:
            _reject(RejectReason.NOT_PROPOSED, f"{pool.pool_id!r} has no proposal to dispute")
        if pool.status == _S_DISPUTED:
            _reject(RejectReason.ALREADY_DISPUTED, f"{pool.pool_id!r} is already disputed by {pool.disputer!r}")
        if c.ts >= pool.deadline:
            _reject(RejectReason.DISPUTE_WINDOW_CLOSED, f"the dispute window closed at {pool.deadline}, ts is {c.ts}")
        coll = pool.collateral
        free = acct.free_of(coll)
        if free < pool.bond:
            _reject(RejectReason.INSUFFICIENT_BALANCE, f"the dispute bond is {pool.bond} {coll}, free is {free}")
        acct.bal[coll].free = free - pool.bond
        eng._account(dispute_escrow_account(pool.pool_id)).entry(coll).free += pool.bond
        pool.status = _S_DISPUTED
        pool.disputer = c.account
        eng.seq += 1
        return [
            E.Disputed(
                eng.seq, pool.pool_id, pool.proposed, pool.resolver, c.account, pool.bond, coll, pool.proposed_ts
            )
        ]

    def decide(self, eng: Engine, c: C.GovernanceDecision) -> list[Any]:
        pool = self._pool(c.market_id)
        if pool.decided:
            _reject(RejectReason.ALREADY_DECIDED, f"the committee already decided {pool.pool_id!r}")
        self._not_final(pool)
        if pool.status != _S_DISPUTED:
            _reject(RejectReason.NOT_DISPUTED, f"{pool.pool_id!r} is not disputed")
        self._check_outcome(pool, c.outcome)
        upheld = c.outcome != pool.proposed
        coll = pool.collateral
        to = pool.disputer if upheld else insurance_account(pool.pool_id)
        eng.accounts[dispute_escrow_account(pool.pool_id)].bal[coll].free -= pool.bond
        eng.accounts[to].entry(coll).free += pool.bond
        pool.decided = True
        eng.seq += 1
        out: list[Any] = [
            E.DisputeDecided(
                eng.seq, pool.pool_id, c.case_id, pool.proposed, c.outcome, upheld, pool.disputer, pool.bond, to
            )
        ]
        self._pay_out(eng, pool, c.outcome, out)
        return out

    def finalize(self, eng: Engine, c: C.FinalizeResolution) -> list[Any]:
        pool = self._pool(c.market_id)
        self._not_final(pool)
        if pool.status == _S_OPEN:
            _reject(RejectReason.NOT_PROPOSED, f"{pool.pool_id!r} has no proposal")
        if pool.status == _S_DISPUTED:
            _reject(RejectReason.RESOLUTION_DISPUTED, f"{pool.pool_id!r} is disputed: waiting for the committee")
        if c.ts < pool.deadline:
            _reject(RejectReason.DISPUTE_WINDOW_OPEN, f"the dispute window is open until {pool.deadline}, ts is {c.ts}")
        out: list[Any] = []
        self._pay_out(eng, pool, pool.proposed, out)
        return out

    def weights(self, pool: Pool, outcome: str) -> tuple[dict[str, int], int]:
        """What each share asset of the pool pays, as numerator per asset over one denominator (x unit)."""
        num: dict[str, int] = {}
        n = len(pool.members)
        if outcome == _INVALID:
            if pool.is_group:
                den = n  # YES pays 1/N, NO (N-1)/N: the group's payouts then sum to its collateral
                for mid in pool.members:
                    pm = self.markets[mid]
                    num[pm.yes] = 1
                    num[pm.no] = n - 1
            else:
                den = BPS
                pm = self.markets[pool.members[0]]
                num[pm.yes] = pool.invalid_bps
                num[pm.no] = BPS - pool.invalid_bps
            return num, den
        for mid in pool.members:
            pm = self.markets[mid]
            wins = mid == outcome if pool.is_group else outcome == _YES
            num[pm.yes] = 1 if wins else 0
            num[pm.no] = 0 if wins else 1
        return num, 1

    def _pay_out(self, eng: Engine, pool: Pool, outcome: str, out: list[Any]) -> None:
        """Burn every share of the pool and credit its holders, sorted by account id.

        Each holder gets floor(sum(shares x weight) x unit / den); the remainder ("dust") goes to
        the pool's insurance fund, so payouts + dust == the pool's collateral exactly.
        """
        num, den = self.weights(pool, outcome)
        unit = pool.unit
        coll = pool.collateral
        held: dict[str, int] = {}
        holders: set[str] = set()
        for mid in pool.members:
            pm = self.markets[mid]
            holders |= pm.holders
            pm.holders = set()
        accounts = eng.accounts
        for aid in holders:
            acct = accounts[aid]
            total = 0
            have = False
            for asset, w in num.items():
                b = acct.bal.pop(asset, None)
                if b is not None:
                    # reserved shares are zero here (the book was cleared at the proposal);
                    # counted anyway, so that nothing could vanish
                    have = True
                    total += (b.free + b.reserved) * w
            if have:
                held[aid] = total
        pool_entry = eng.accounts[pool.coll_account].bal[coll]
        locked = pool_entry.free
        paid = 0
        for aid in sorted(held):
            amount = held[aid] * unit // den
            if not amount:
                continue
            eng.accounts[aid].entry(coll).free += amount
            paid += amount
            eng.seq += 1
            out.append(E.Payout(eng.seq, pool.pool_id, aid, amount))
        dust = locked - paid
        pool_entry.free = 0
        ins = insurance_account(pool.pool_id)
        if dust:
            eng.accounts[ins].bal[coll].free += dust
        for mid in pool.members:
            pm = self.markets[mid]
            pm.yes_supply = 0
            pm.no_supply = 0
        pool.status = _S_FINAL
        pool.final = outcome
        eng.seq += 1
        out.append(E.ResolutionFinal(eng.seq, pool.pool_id, outcome, locked, paid, dust, ins))


def _share_entry(acct: Account, asset: str, holders: set[str]) -> Balance:
    """``acct``'s entry of the share ``asset``; its first is made, and the account indexed among
    the market's ``holders`` (the payout walks them)."""
    b = acct.bal.get(asset)
    if b is None:
        b = acct.bal[asset] = Balance()
        holders.add(acct.account_id)
    return b


def _credit(acct: Account, asset: str, amount: int) -> None:
    acct.entry(asset).free += amount
