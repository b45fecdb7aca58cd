"""The deterministic trading state machine: ``Engine.apply(command) -> list[event]``.

One Engine holds all markets and accounts. It reads no clock and no randomness; iteration
that affects results is over insertion-ordered structures built by the command sequence
itself, or explicitly sorted. See docs/engine.md for the public contract.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from heapq import heapify, heappop, heappush
from sys import intern
from typing import TYPE_CHECKING, Any, Final, NoReturn

from . import commands as C
from . import events as E
from .book import EXPIRED, STP_BOTH, STP_RESTING, STP_TAKING, Book, Order
from .enums import CancelReason, MarketKind, MarketStatus, RejectReason, WithdrawalStatus
from .ledger import SYSTEM_PREFIX, Account, Balance
from .params import DEFAULT_PARAMS, ProtocolParams

if TYPE_CHECKING:
    from .perp import Perp
    from .prediction import Prediction

__all__ = ["Engine", "PROTOCOL_FEE_ACCOUNT", "SYSTEM_PREFIX", "deployer_fee_account", "insurance_account"]

SNAPSHOT_VERSION = 2  # 2: one "balances" map of [free, reserved] per asset (1: "free" and "reserved" maps)
BPS: Final = 10_000
MAX_FEE_BPS: Final = 1_000  # 10 %
PROTOCOL_FEE_ACCOUNT: Final = "sys:protocol"
SHARE_MARK: Final = ":"  # prediction share assets are "<market_id>:YES" / ":NO"; chain assets never contain it
_DEPLOYER_PREFIX: Final = f"{SYSTEM_PREFIX}deployer:"

_SIDES: Final = {"buy": True, "sell": False}
_SHAPES: Final = frozenset(
    [("limit", tif) for tif in ("gtc", "ioc", "fok", "post_only")] + [("market", tif) for tif in ("ioc", "fok")]
)
_RESTING_TIFS: Final = frozenset(("gtc", "post_only"))

_C_EXPIRED: Final = CancelReason.EXPIRED.value
_C_SELF_TRADE: Final = CancelReason.SELF_TRADE.value
_C_IOC: Final = CancelReason.IOC.value


def deployer_fee_account(deployer: str) -> str:
    """Ledger account that collects a deployer's share of fees."""
    return f"{_DEPLOYER_PREFIX}{deployer}"


def insurance_account(market_id: str) -> str:
    """Ledger account of a market's insurance fund."""
    return f"{SYSTEM_PREFIX}insurance:{market_id}"


class _Reject(Exception):
    def __init__(self, reason: RejectReason, detail: str) -> None:
        self.reason = reason
        self.detail = detail


def _reject(reason: RejectReason, detail: str) -> NoReturn:
    raise _Reject(reason, detail)


class Market:
    """A market's spec, status and book, plus precomputed fee constants."""

    __slots__ = (
        "market_id",
        "kind",
        "base",
        "quote",
        "tick",
        "lot",
        "min_size",
        "maker_bps",
        "taker_bps",
        "share_bps",
        "deployer",
        "deployer_account",
        "insurance_account",
        "status",
        "book",
        "take_bps",
        "rest_bps",
        "deployer_quote",
        "protocol_quote",
    )

    def __init__(self, c: C.LaunchMarket) -> None:
        self.market_id = c.market_id
        self.kind = c.kind
        # interned like the ledger's keys (see Engine._deposit_credit): balance lookups hit on identity
        self.base = intern(c.base_asset)
        self.quote = intern(c.quote_asset)
        self.tick = c.tick_size
        self.lot = c.lot_size
        self.min_size = c.min_size
        self.maker_bps = c.maker_fee_bps
        self.taker_bps = c.taker_fee_bps
        self.share_bps = c.deployer_fee_share_bps
        self.deployer = c.deployer
        self.deployer_account = deployer_fee_account(c.deployer)
        self.insurance_account = insurance_account(c.market_id)
        self.status = MarketStatus.ACTIVE.value
        self.book = Book()
        # fee rate bounding the reservation while an order may still take / once it rests
        self.take_bps = max(c.taker_fee_bps, c.maker_fee_bps, 0)
        self.rest_bps = max(c.maker_fee_bps, 0)
        # the fee accounts' quote entries, which every fill credits: set by Engine._link_market
        # (left unset until then, so that no fee can be credited to an entry outside the ledger)
        self.deployer_quote: Balance
        self.protocol_quote: Balance

    def spec(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "base_asset": self.base,
            "quote_asset": self.quote,
            "tick_size": self.tick,
            "lot_size": self.lot,
            "min_size": self.min_size,
            "maker_fee_bps": self.maker_bps,
            "taker_fee_bps": self.taker_bps,
            "deployer_fee_share_bps": self.share_bps,
            "deployer": self.deployer,
        }


class Withdrawal:
    __slots__ = ("withdrawal_id", "account", "asset", "amount", "nonce", "expiry_ts", "status")

    def __init__(
        self, withdrawal_id: str, account: str, asset: str, amount: int, nonce: int, expiry_ts: int, status: str
    ) -> None:
        self.withdrawal_id = withdrawal_id
        self.account = account
        self.asset = asset
        self.amount = amount
        self.nonce = nonce
        self.expiry_ts = expiry_ts
        self.status = status


class Engine:
    """All trading state, changed only by ``apply``."""

    def __init__(self, params: ProtocolParams = DEFAULT_PARAMS) -> None:
        self.seq = 0  # last event sequence number handed out
        self.last_ts = 0  # ts of the last accepted command
        self.next_order_id = 1
        self.next_trade_id = 1
        self.accounts: dict[str, Account] = {PROTOCOL_FEE_ACCOUNT: Account(PROTOCOL_FEE_ACCOUNT)}
        self.markets: dict[str, Market] = {}
        self.orders: dict[int, Order] = {}  # every resting order
        self.deposits: set[str] = set()
        self.withdrawals: dict[str, Withdrawal] = {}
        # command type -> f(engine, command). No entry refers back to this engine (methods of the
        # class, bound methods of its parts): an engine is no reference cycle, and is freed as
        # soon as it is dropped (runtime.py)
        self._handlers: dict[type[Any], Callable[[Engine, Any], list[Any]]] = {
            C.DepositCredit: Engine._deposit_credit,
            C.WithdrawRequest: Engine._withdraw_request,
            C.WithdrawExpire: Engine._withdraw_expire,
            C.WithdrawExecuted: Engine._withdraw_executed,
            C.LaunchMarket: Engine._launch_market,
            C.HaltMarket: Engine._halt_market,
            C.PlaceOrder: Engine._place_order,
            C.CancelOrder: Engine._cancel_order,
            C.CancelAll: Engine._cancel_all,
            C.ExpireOrders: Engine._expire_orders,
            C.ClaimFees: Engine._claim_fees,
        }
        # prediction markets (issue 13): see prediction.py
        from .prediction import Prediction

        self.pred: Prediction = Prediction()
        pred = self.pred
        self._handlers[C.Split] = pred.split
        self._handlers[C.Merge] = pred.merge
        self._handlers[C.ConvertNo] = pred.convert_no
        self._handlers[C.AddOutcome] = pred.add_outcome
        self._handlers[C.ProposeResolution] = pred.propose
        self._handlers[C.Dispute] = pred.dispute
        self._handlers[C.GovernanceDecision] = pred.decide
        self._handlers[C.FinalizeResolution] = pred.finalize
        # perps, margin domains and risk classes (issue 14): see perp.py
        from .perp import Perp

        self.perp: Perp = Perp(params)
        perp = self.perp
        self._handlers[C.SubaccountTransfer] = perp.subaccount_transfer
        self._handlers[C.GraduationTick] = perp.graduation_tick
        self._handlers[C.SetRiskClass] = perp.set_risk_class
        self._handlers[C.GovernanceCase] = perp.governance_case
        self._handlers[C.SetMarginMode] = perp.set_margin_mode
        self._handlers[C.AdjustIsolatedMargin] = perp.adjust_isolated_margin
        self._handlers[C.OraclePrice] = perp.oracle_price
        self._handlers[C.FundingTick] = perp.funding_tick
        self._handlers[C.ResumeMarket] = perp.resume_market
        self._handlers[C.SetAllowlist] = perp.set_allowlist
        self._handlers[C.Liquidate] = perp.liquidate
        self._handlers[C.PlaceTrigger] = perp.place_trigger
        self._handlers[C.CancelTrigger] = perp.cancel_trigger
        self._handlers[C.TriggerTick] = perp.trigger_tick

    # -- entry point -----------------------------------------------------------------------

    def apply(self, cmd: C.Command) -> list[E.Event]:
        """Apply one command; return its events. An invalid command yields one ``Rejected``.

        A rejected command changes nothing but ``seq`` (its Rejected event takes the next number).
        """
        cls = type(cmd)
        handler = self._handlers.get(cls)
        try:
            if handler is None:
                _reject(RejectReason.INVALID_COMMAND, f"unknown command {cls.__name__}")
            # exact field types (a bool is not an int, a str subclass not a str), checked on the
            # command itself: the compiled build would coerce a bool where a handler reads an int
            if not (_place_order_typed(cmd) if cls is _PlaceOrder else tuple(map(type, cmd)) == _FIELD_TYPES[cls]):
                _reject(RejectReason.INVALID_COMMAND, _type_mismatch(cmd))
            ts = cmd[0]  # every command's first field; indexing skips the NamedTuple descriptor
            if ts < self.last_ts:
                _reject(RejectReason.TIMESTAMP_REGRESSION, f"ts {ts} is before the last accepted ts {self.last_ts}")
            out = handler(self, cmd)
        except _Reject as r:
            self.seq += 1
            return [E.Rejected(self.seq, C.TYPE_NAMES.get(cls, cls.__name__), r.reason.value, r.detail, _ref(cmd))]
        self.last_ts = ts
        return out

    # -- helpers ---------------------------------------------------------------------------

    def _trader(self, account_id: str) -> Account:
        acct = self.accounts.get(account_id)
        if acct is None:
            _reject(RejectReason.UNKNOWN_ACCOUNT, f"account {account_id!r} has never received a deposit")
        if acct.system:
            _reject(RejectReason.SYSTEM_ACCOUNT, f"{account_id!r} is a system account")
        return acct

    def _account(self, account_id: str) -> Account:
        acct = self.accounts.get(account_id)
        if acct is None:
            acct = self.accounts[account_id] = Account(account_id)
        return acct

    def _drop(self, o: Order, reason: str, out: list[Any]) -> None:
        """Forget a live order that already left the book; release its reservation."""
        acct = self.accounts[o.account]
        oid = o.order_id
        self.pred.no_orders.discard(oid)  # a NO order's flag (order ids are unique: others have none)
        res = o.reserved
        if res:
            b = o.hold
            assert b is not None, "an order that reserves funds knows their ledger entry"
            b.reserved -= res
            b.free += res
            o.reserved = 0
        del self.orders[oid]
        del acct.orders[oid]
        if o.client_id:
            del acct.live_client[o.client_id]
        self.seq += 1
        out.append(_new(_Cancelled, (self.seq, o.market_id, oid, o.account, o.qty, reason)))

    # -- funds -----------------------------------------------------------------------------

    def _deposit_credit(self, c: C.DepositCredit) -> list[Any]:
        if not c.deposit_id:
            _reject(RejectReason.INVALID_FIELD, "deposit_id must not be empty")
        if c.deposit_id in self.deposits:
            _reject(RejectReason.DUPLICATE_DEPOSIT_ID, f"deposit {c.deposit_id!r} was already credited")
        if not c.account or c.account.startswith(SYSTEM_PREFIX):
            _reject(RejectReason.SYSTEM_ACCOUNT, f"cannot deposit to {c.account!r}")
        if not c.asset:
            _reject(RejectReason.INVALID_FIELD, "asset must not be empty")
        if SHARE_MARK in c.asset:
            # prediction shares exist only inside the engine, backed by its collateral pools
            _reject(RejectReason.INVALID_FIELD, f"{c.asset!r} names a prediction share, which cannot be deposited")
        if c.amount <= 0:
            _reject(RejectReason.INVALID_AMOUNT, f"deposit amount must be positive, got {c.amount}")
        self.deposits.add(c.deposit_id)
        acct = self._account(c.account)
        # one string object per asset name across all accounts and markets: the hot path's
        # balance lookups then match keys by identity instead of comparing text (and the
        # compared key strings need not be fetched from memory)
        acct.entry(intern(c.asset)).free += c.amount
        self.seq += 1
        return [E.DepositCredited(self.seq, c.deposit_id, c.account, c.asset, c.amount)]

    def _withdraw_request(self, c: C.WithdrawRequest) -> list[Any]:
        if not c.withdrawal_id:
            _reject(RejectReason.INVALID_FIELD, "withdrawal_id must not be empty")
        if c.withdrawal_id in self.withdrawals:
            _reject(RejectReason.DUPLICATE_WITHDRAWAL_ID, f"withdrawal {c.withdrawal_id!r} already exists")
        acct = self._trader(c.account)
        if SHARE_MARK in c.asset:
            # a share leaving the ledger would break supply = locked collateral; merge or await payout
            _reject(RejectReason.INVALID_FIELD, f"{c.asset!r} is a prediction share: merge it or await the payout")
        if c.amount <= 0:
            _reject(RejectReason.INVALID_AMOUNT, f"withdrawal amount must be positive, got {c.amount}")
        if c.expiry_ts <= c.ts:
            _reject(RejectReason.EXPIRED, f"expiry_ts {c.expiry_ts} is not after ts {c.ts}")
        free = acct.free_of(c.asset)
        if c.account in self.perp.domains:  # margin in use stays (issue 14)
            free = self.perp.free_collateral(self, c.account, c.asset, c.ts)
        if free < c.amount:
            _reject(RejectReason.INSUFFICIENT_BALANCE, f"free {c.asset} balance {free} < {c.amount}")
        acct.bal[c.asset].free -= c.amount
        acct.withdraw_nonce += 1
        w = Withdrawal(
            c.withdrawal_id,
            c.account,
            c.asset,
            c.amount,
            acct.withdraw_nonce,
            c.expiry_ts,
            WithdrawalStatus.PENDING.value,
        )
        self.withdrawals[c.withdrawal_id] = w
        self.seq += 1
        return [E.WithdrawalAuthorized(self.seq, w.withdrawal_id, w.account, w.asset, w.amount, w.nonce, w.expiry_ts)]

    def _pending(self, withdrawal_id: str) -> Withdrawal:
        w = self.withdrawals.get(withdrawal_id)
        if w is None:
            _reject(RejectReason.UNKNOWN_WITHDRAWAL, f"no withdrawal {withdrawal_id!r}")
        if w.status != WithdrawalStatus.PENDING:
            _reject(RejectReason.WITHDRAWAL_NOT_PENDING, f"withdrawal {withdrawal_id!r} is already {w.status}")
        return w

    def _withdraw_expire(self, c: C.WithdrawExpire) -> list[Any]:
        w = self._pending(c.withdrawal_id)
        if c.ts < w.expiry_ts:
            _reject(RejectReason.WITHDRAWAL_NOT_EXPIRED, f"withdrawal expires at {w.expiry_ts}, ts is {c.ts}")
        w.status = WithdrawalStatus.EXPIRED.value
        self.accounts[w.account].bal[w.asset].free += w.amount
        self.seq += 1
        return [E.WithdrawalExpired(self.seq, w.withdrawal_id, w.account, w.asset, w.amount)]

    def _withdraw_executed(self, c: C.WithdrawExecuted) -> list[Any]:
        w = self._pending(c.withdrawal_id)
        w.status = WithdrawalStatus.EXECUTED.value
        self.seq += 1
        return [E.WithdrawalExecuted(self.seq, w.withdrawal_id, w.account, w.asset, w.amount)]

    def _claim_fees(self, c: C.ClaimFees) -> list[Any]:
        """A deployer's fees go to its own trading account, the protocol's to the treasury: from
        there the ordinary withdrawal path applies, and the fee accounts themselves never withdraw."""
        if c.account == PROTOCOL_FEE_ACCOUNT:
            owner = C.GOVERNANCE
            to = self.perp.params.treasury_account
            if not to or to.startswith(SYSTEM_PREFIX):
                _reject(RejectReason.NOT_SUPPORTED, "no treasury_account is set in the protocol parameters")
        elif c.account.startswith(_DEPLOYER_PREFIX):
            owner = to = c.account[len(_DEPLOYER_PREFIX) :]
        else:
            _reject(RejectReason.INVALID_ACCOUNT, f"{c.account!r} is not a fee account")
        acct = self.accounts.get(c.account)
        if acct is None:
            _reject(RejectReason.UNKNOWN_ACCOUNT, f"no fee account {c.account!r}")
        if c.claimant != owner:
            _reject(RejectReason.FEE_OWNER_MISMATCH, f"only {owner!r} claims the fees in {c.account!r}")
        if c.amount <= 0:
            _reject(RejectReason.INVALID_AMOUNT, f"claim amount must be positive, got {c.amount}")
        free = acct.free_of(c.asset)
        if free < c.amount:
            _reject(RejectReason.INSUFFICIENT_BALANCE, f"{c.account!r} holds {free} {c.asset} < {c.amount}")
        dest = self._account(to)
        asset = intern(c.asset)
        acct.bal[asset].free -= c.amount
        dest.entry(asset).free += c.amount
        self.seq += 1
        return [E.FeesClaimed(self.seq, c.account, to, asset, c.amount, c.claimant)]

    # -- markets ---------------------------------------------------------------------------

    def _launch_market(self, c: C.LaunchMarket) -> list[Any]:
        if not c.market_id:
            _reject(RejectReason.BAD_MARKET_SPEC, "market_id must not be empty")
        if c.market_id in self.markets:
            _reject(RejectReason.DUPLICATE_MARKET_ID, f"market {c.market_id!r} already exists")
        if c.kind not in (MarketKind.SPOT, MarketKind.PERP, MarketKind.PREDICTION):
            _reject(RejectReason.BAD_MARKET_SPEC, f"unknown market kind {c.kind!r}")
        if not 0 <= c.collateral_weight_bps <= self.perp.params.max_collateral_weight_bps:
            _reject(RejectReason.BAD_MARKET_SPEC, "collateral_weight_bps must be within 0..max_collateral_weight_bps")
        if c.bond < 0:
            _reject(RejectReason.BAD_MARKET_SPEC, "bond must not be negative")
        # as the MarketRegistry: at least the kind's minimum, and more than 0 even if that is 0
        min_bond = max(1, self._min_bonds()[c.kind])
        if c.bond < min_bond:
            _reject(RejectReason.BOND_TOO_LOW, f"a {c.kind} market needs a bond of at least {min_bond}, got {c.bond}")
        if c.kind == MarketKind.PREDICTION or c.market_id in self.pred.pools:
            launched = self.pred.launch(self, c)
            if c.collateral_weight_bps:  # shares count toward cross equity (issue 14)
                self.perp.weights[c.market_id] = c.collateral_weight_bps
            return launched
        if not c.base_asset or not c.quote_asset or c.base_asset == c.quote_asset:
            _reject(RejectReason.BAD_MARKET_SPEC, "base and quote assets must be set and differ")
        if c.tick_size <= 0 or c.lot_size <= 0 or c.min_size <= 0:
            _reject(RejectReason.BAD_MARKET_SPEC, "tick_size, lot_size and min_size must be positive")
        if not 0 <= c.taker_fee_bps <= MAX_FEE_BPS:
            _reject(RejectReason.BAD_MARKET_SPEC, f"taker_fee_bps must be within 0..{MAX_FEE_BPS}")
        if not -c.taker_fee_bps <= c.maker_fee_bps <= MAX_FEE_BPS:
            _reject(
                RejectReason.BAD_MARKET_SPEC,
                f"maker_fee_bps must be within -taker_fee_bps..{MAX_FEE_BPS} (a rebate never exceeds the taker fee)",
            )
        if not 0 <= c.deployer_fee_share_bps <= BPS:
            _reject(RejectReason.BAD_MARKET_SPEC, f"deployer_fee_share_bps must be within 0..{BPS}")
        if not c.deployer or c.deployer.startswith(SYSTEM_PREFIX):
            _reject(RejectReason.BAD_MARKET_SPEC, "deployer must be an address")
        tiers = self.perp.validate_spec(self, c) if c.kind == MarketKind.PERP else None
        _, event = self._open_market(c)
        out: list[Any] = [event]
        if tiers is not None:
            out += self.perp.launch(self, c, tiers)
        elif c.collateral_weight_bps:  # spot holdings count toward cross equity (issue 14)
            self.perp.weights[c.market_id] = c.collateral_weight_bps
        return out

    def _min_bonds(self) -> dict[str, int]:
        p = self.perp.params
        return {_SPOT: p.min_bond_spot, _PERP: p.min_bond_perp, _PREDICTION: p.min_bond_prediction}

    def _open_market(self, c: C.LaunchMarket) -> tuple[Market, E.MarketLaunched]:
        """Register a validated market and its fee accounts; its ``MarketLaunched`` event (any kind)."""
        m = Market(c)
        self.markets[c.market_id] = m
        for acct_id in (m.deployer_account, m.insurance_account, PROTOCOL_FEE_ACCOUNT):
            self._account(acct_id).entry(m.quote)
        self._link_market(m)
        self.seq += 1
        launched = E.MarketLaunched(
            self.seq,
            c.market_id,
            c.kind,
            c.base_asset,
            c.quote_asset,
            c.tick_size,
            c.lot_size,
            c.min_size,
            c.maker_fee_bps,
            c.taker_fee_bps,
            c.deployer_fee_share_bps,
            c.deployer,
            m.deployer_account,
            m.insurance_account,
        )
        return m, launched

    def _link_market(self, m: Market) -> None:
        """Make the fee accounts' quote entries of ``m`` and keep them on it (launch, restore)."""
        m.deployer_quote = self._account(m.deployer_account).entry(m.quote)
        m.protocol_quote = self._account(PROTOCOL_FEE_ACCOUNT).entry(m.quote)

    def _market(self, market_id: str) -> Market:
        m = self.markets.get(market_id)
        if m is None:
            _reject(RejectReason.UNKNOWN_MARKET, f"no market {market_id!r}")
        return m

    def _halt_market(self, c: C.HaltMarket) -> list[Any]:
        m = self._market(c.market_id)
        if m.status == MarketStatus.HALTED:
            _reject(RejectReason.MARKET_HALTED, f"market {c.market_id!r} is already halted")
        out: list[Any] = []
        halt_mark = self.perp.mark(self.perp.markets[m.market_id], m, c.ts) if m.kind == _PERP else None
        book = m.book
        resting = [o for side in (True, False) for lvl in book.levels(side) for o in _walk(lvl.head)]
        resting.sort(key=_order_id)
        for o in resting:
            book.remove(o)
            self._drop(o, CancelReason.HALT.value, out)
        if m.kind == _PERP:  # every position settles at the mark at the halt (issue 14)
            self.perp.settle_halt(self, m, halt_mark, out)
        m.status = MarketStatus.HALTED.value
        self.seq += 1
        out.append(E.MarketHalted(self.seq, c.market_id, c.reason))
        return out

    # -- orders ----------------------------------------------------------------------------

    def _place_order(self, c: C.PlaceOrder) -> list[Any]:
        # hot path: one unpack instead of a dozen attribute reads
        ts, account, market_id, side, price, size, order_type, tif, stp_name, cid, expiry, reduce_only, outcome = c
        m = self.markets.get(market_id)
        if m is None:
            _reject(RejectReason.UNKNOWN_MARKET, f"no market {market_id!r}")
        if m.status != "active":
            _reject(RejectReason.MARKET_HALTED, f"market {market_id!r} is halted")
        if m.kind != "spot" or outcome != "yes":
            if m.kind == _PERP:
                return self.perp.place_order(self, c)
            return self.pred.place_order(self, c, m)
        acct = self.accounts.get(account)
        if acct is None or acct.system:
            acct = self._trader(account)
        is_buy, stp = _order_shape(side, order_type, tif, stp_name)
        if reduce_only:
            _reject(RejectReason.NOT_SUPPORTED, "reduce_only is not supported on spot markets")
        if price <= 0:
            _reject(RejectReason.INVALID_PRICE, f"price must be a positive number of ticks, got {price}")
        # skip the shared checks' call when none of them can fire (the usual order)
        if size < m.min_size or expiry or cid:
            _check_order_terms(size, m.min_size, expiry, ts, cid, acct.client_ids)
        book = m.book
        if tif == "post_only":
            _check_post_only(book, is_buy, price, f"{side} at {price}")
        bal = acct.bal
        if is_buy:
            asset = m.quote
            notional = price * size * m.tick
            need = notional - (notional * (m.rest_bps if tif == "post_only" else m.take_bps)) // -BPS
        else:
            asset = m.base
            need = size * m.lot
        pays = bal.get(asset)  # the taker's entry of what it pays with
        if pays is None or pays.free < need:
            _reject(
                RejectReason.INSUFFICIENT_BALANCE,
                f"needs {need} {asset} (price, size and worst-case fee), "
                f"free balance is {0 if pays is None else pays.free}",
            )
        if is_buy and account in self.perp.domains:  # a margin domain's buy may lower cross equity
            self.perp.check_collateral_buy(self, acct, m, True, size, need, ts)
        if tif == "fok" and not book.can_fill(is_buy, price, size, account, ts, stp):
            _reject(RejectReason.FOK_CANNOT_FILL, f"cannot fill {size} lots at {price} or better right now")

        # ---- accepted: from here on nothing may reject ----
        # from here on use the ledger's own key strings (equal to the command's): the resting
        # order keeps them, so later dict lookups by its account hit on identity, and the
        # command's copies are not kept alive by the book
        account = acct.account_id
        market_id = m.market_id
        seq = self.seq + 1
        oid = self.next_order_id
        self.next_order_id = oid + 1
        if cid:
            acct.client_ids.add(cid)
        # tuple.__new__ skips NamedTuple's Python-level __new__: same object, a third of the cost
        out: list[Any] = [
            _new(_OrderAccepted, (seq, market_id, oid, account, cid, side, order_type, tif, price, size, expiry))
        ]
        rem = size
        stopped = False
        taker_w = 0
        spent = 0  # taker's funds paid out by fills (quote for a buy, base for a sell)
        # most orders do not reach the other side: no fills list for them
        execs: list[tuple[Order, int]] | None = None
        if is_buy:
            heap = book.ask_heap
            if heap and heap[0] <= price:
                execs = []
                rem, stopped = book.match_buy(price, size, account, ts, stp, execs)
        else:
            heap = book.bid_heap
            if heap and -heap[0] >= price:
                execs = []
                rem, stopped = book.match_sell(price, size, account, ts, stp, execs)

        if execs:
            quote = m.quote
            base = m.base
            # settle fills in order; fee rules: docs/engine.md "Fees"
            accounts = self.accounts
            orders: dict[Any, Order] = self.orders  # by Order.key
            tick = m.tick
            lot = m.lot
            tbps = m.taker_bps
            mbps = m.maker_bps
            rest_bps = m.rest_bps
            share = m.share_bps
            trade_id = self.next_trade_id
            fee_total = 0
            dep_total = 0
            t_quote = 0  # buy: quote spent; sell: quote received (net of fees)
            t_base = 0  # lots bought / sold
            Trade = _Trade
            new = _new
            for o, code in execs:
                macct = accounts[o.account]
                if code > 0:
                    p = o.price
                    n = p * code * tick
                    tw2 = taker_w + n * tbps
                    tfee = (taker_w // -BPS) - (tw2 // -BPS)  # ceil(tw2/BPS) - ceil(taker_w/BPS)
                    taker_w = tw2
                    mw = o.fee_w
                    if mbps >= 0:
                        mw2 = mw + n * mbps
                        mfee = (mw // -BPS) - (mw2 // -BPS)
                        o.fee_w = mw = mw2
                    else:
                        mfee = -((n * -mbps) // BPS)
                    t_base += code
                    mq = o.qty
                    held = o.hold  # the maker's entry of what it reserved
                    assert held is not None, "a resting spot order holds its funds"
                    if is_buy:
                        # maker sold base for quote
                        t_quote += n + tfee
                        moved = code * lot
                        o.reserved -= moved
                        held.reserved -= moved
                        macct.entry(quote).free += n - mfee
                    else:
                        # maker bought base with quote
                        t_quote += n - tfee
                        rn = p * mq * tick
                        new_need = rn + (mw // -BPS) - ((mw + rn * rest_bps) // -BPS) if mq else 0
                        old = o.reserved
                        o.reserved = new_need
                        held.reserved -= old - new_need
                        # release = old - (n + mfee) - new_need; a rebate (mfee < 0) is paid on top
                        held.free += old - n - mfee - new_need
                        macct.entry(base).free += code * lot
                    net = tfee + mfee
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
                                p,
                                code,
                                side,
                                oid,
                                account,
                                o.order_id,
                                o.account,
                                tfee,
                                mfee,
                                size - t_base,
                                mq,
                            ),
                        )
                    )
                    trade_id += 1
                    if not mq:
                        del orders[o.key]
                        mine: dict[Any, Order] = macct.orders  # by Order.key
                        del mine[o.key]
                        if o.client_id:
                            del macct.live_client[o.client_id]
                else:
                    # maker removed unfilled: expired or self-trade prevention (rare: no inlining)
                    self.seq = seq
                    self._drop(o, _C_EXPIRED if code == EXPIRED else _C_SELF_TRADE, out)
                    seq = self.seq
            self.next_trade_id = trade_id
            if fee_total:
                m.deployer_quote.free += dep_total
                m.protocol_quote.free += fee_total - dep_total
            # taker settlement: what it received; what it paid leaves free below
            if is_buy:
                acct.entry(base).free += t_base * lot
                spent = t_quote
            else:
                acct.entry(quote).free += t_quote
                spent = t_base * lot

        if rem and not stopped and tif in _RESTING_TIFS:
            if is_buy:
                rn = price * rem * m.tick
                new_need = rn + (taker_w // -BPS) - ((taker_w + rn * m.rest_bps) // -BPS)
            else:
                new_need = rem * m.lot
            hold = new_need
            o = Order(
                oid, account, is_buy, price, rem, expiry, market_id, cid, size, new_need, taker_w, tif, order_type, pays
            )
            book.insert(o)
            live: dict[Any, Order] = self.orders  # by Order.key
            live[o.key] = o
            held_by: dict[Any, Order] = acct.orders
            held_by[o.key] = o
            if cid:
                acct.live_client[cid] = oid
        else:
            hold = 0
            if rem:
                seq += 1
                out.append(_new(_Cancelled, (seq, market_id, oid, account, rem, _C_SELF_TRADE if stopped else _C_IOC)))
        # The taker's own balances change once, by the net result: the worst-case reservation
        # `need` checked above, then released in part by fills and resting, would leave the
        # same end state (integer sums commute, and nothing reads these two entries meanwhile;
        # self-trade cancels of the taker's own orders only add to them).
        pays.free -= spent + hold
        pays.reserved += hold
        self.seq = seq
        return out

    def _cancel_order(self, c: C.CancelOrder) -> list[Any]:
        acct = self._trader(c.account)
        if c.order_id:
            o = self.orders.get(c.order_id)
            if o is None:
                _reject(RejectReason.UNKNOWN_ORDER, f"order {c.order_id} is not resting")
            if o.account != c.account:
                _reject(RejectReason.NOT_YOUR_ORDER, f"order {c.order_id} belongs to another account")
        elif c.client_id:
            oid = acct.live_client.get(c.client_id)
            if oid is None:
                _reject(RejectReason.UNKNOWN_ORDER, f"no resting order with client_id {c.client_id!r}")
            o = self.orders[oid]
        else:
            _reject(RejectReason.INVALID_FIELD, "give order_id or client_id")
        out: list[Any] = []
        self.markets[o.market_id].book.remove(o)
        self._drop(o, CancelReason.USER.value, out)
        return out

    def _cancel_all(self, c: C.CancelAll) -> list[Any]:
        acct = self._trader(c.account)
        if c.market_id:
            self._market(c.market_id)
        out: list[Any] = []
        for oid in sorted(acct.orders):
            o = acct.orders[oid]
            if c.market_id and o.market_id != c.market_id:
                continue
            self.markets[o.market_id].book.remove(o)
            self._drop(o, CancelReason.CANCEL_ALL.value, out)
        return out

    def _expire_orders(self, c: C.ExpireOrders) -> list[Any]:
        """Remove expired resting orders, earliest (expiry_ts, order_id) first, at most ``limit``.

        Each book keeps a heap of its orders with an expiry, so the work is O(markets + k log n)
        for k removed orders: the sweep never walks orders that have not expired.
        """
        cap = self.perp.params.expire_max_orders
        if not 1 <= c.limit <= cap:
            _reject(RejectReason.INVALID_FIELD, f"limit must be within 1..{cap}, got {c.limit}")
        ts = c.ts
        markets = [self._market(c.market_id)] if c.market_id else list(self.markets.values())
        # one candidate per market; a heap over them merges the markets' expiry heaps in order
        due: list[tuple[int, int, Market]] = []
        for m in markets:
            o = m.book.next_expired(ts)
            if o is not None:
                due.append((o.expiry_ts, o.order_id, m))
        heapify(due)
        out: list[Any] = []
        done = 0
        while due and done < c.limit:
            m = heappop(due)[2]
            book = m.book
            o = heappop(book.expiry_heap)[2]
            book.remove(o)
            self._drop(o, _C_EXPIRED, out)
            done += 1
            o = book.next_expired(ts)
            if o is not None:
                heappush(due, (o.expiry_ts, o.order_id, m))
        if done:
            self.seq += 1
            out.append(E.OrdersExpired(self.seq, c.market_id, done, bool(due)))
        return out

    # -- upkeep ----------------------------------------------------------------------------

    def maintain(self) -> bool:
        """Upkeep of derived data that is too slow for the command path; whether it did any.

        Compacts the kept margin index once its abandoned rows are an eighth of its columns.
        No state changes (no events, the same hash); the sequencer calls it when no command
        is waiting (docs/engine.md "Running the engine").
        """
        index = self.perp.index
        return index is not None and index.compact_if_due()

    # -- reads -----------------------------------------------------------------------------

    def balance(self, account: str, asset: str) -> tuple[int, int]:
        """(free, reserved) of one account in one asset; (0, 0) if unknown."""
        acct = self.accounts.get(account)
        if acct is None:
            return 0, 0
        b = acct.bal.get(asset)
        return (0, 0) if b is None else (b.free, b.reserved)

    def depth(self, market_id: str) -> dict[str, list[tuple[int, int]]]:
        """Aggregated book: {"bids": [(price, lots), ...] best first, "asks": [...]}."""
        book = self.markets[market_id].book
        return {
            "bids": [(lvl.price, lvl.total) for lvl in book.levels(True)],
            "asks": [(lvl.price, lvl.total) for lvl in book.levels(False)],
        }

    def open_orders(self, account: str) -> list[Order]:
        """The account's resting orders, by order id. Treat them as read-only."""
        acct = self.accounts.get(account)
        if acct is None:
            return []
        return [acct.orders[oid] for oid in sorted(acct.orders)]

    # -- snapshot / hash ---------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The complete state as JSON-safe plain data (ints, strs, lists, dicts with str keys)."""
        markets = {}
        for mid, m in self.markets.items():
            markets[mid] = {
                "spec": m.spec(),
                "status": m.status,
                "bids": [_order_row(o) for lvl in m.book.levels(True) for o in _walk(lvl.head)],
                "asks": [_order_row(o) for lvl in m.book.levels(False) for o in _walk(lvl.head)],
            }
        accounts = {}
        for aid, a in self.accounts.items():
            accounts[aid] = {
                "balances": {asset: [b.free, b.reserved] for asset, b in a.bal.items()},
                "withdraw_nonce": a.withdraw_nonce,
                "client_ids": sorted(a.client_ids),
            }
        snap = {
            "version": SNAPSHOT_VERSION,
            "seq": self.seq,
            "last_ts": self.last_ts,
            "next_order_id": self.next_order_id,
            "next_trade_id": self.next_trade_id,
            "accounts": accounts,
            "markets": markets,
            "deposits": sorted(self.deposits),
            "withdrawals": {
                wid: [w.account, w.asset, w.amount, w.nonce, w.expiry_ts, w.status]
                for wid, w in self.withdrawals.items()
            },
        }
        if self.pred.markets:  # absent while there are none: spot-only hashes stay as they were
            snap["prediction"] = self.pred.snapshot()
        if self.perp.active():  # likewise absent until the first perp market (issue 14)
            snap["perp"] = self.perp.snapshot()
        return snap

    def state_hash(self, include_seq: bool = True) -> str:
        """Hex sha256 of the canonical JSON of ``snapshot()`` (keys sorted, no whitespace).

        ``include_seq=False`` leaves out the event sequence counter: that is the form in which
        a rejected command leaves the hash unchanged.
        """
        snap = self.snapshot()
        if not include_seq:
            del snap["seq"]
        return hashlib.sha256(canonical_json(snap)).hexdigest()

    @classmethod
    def restore(cls, snap: dict[str, Any], params: ProtocolParams = DEFAULT_PARAMS) -> Engine:
        """Rebuild an Engine from ``snapshot()`` output (also after a JSON round trip).

        ``params`` applies until the snapshot has perp state, which carries its own.
        """
        if snap.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported snapshot version {snap.get('version')!r}")
        eng = cls(params)
        eng.seq = snap["seq"]
        eng.last_ts = snap["last_ts"]
        eng.next_order_id = snap["next_order_id"]
        eng.next_trade_id = snap["next_trade_id"]
        eng.accounts.clear()  # the same dict for the engine's life (the margin index holds it)
        for aid, a in snap["accounts"].items():
            acct = Account(aid)
            acct.bal = {intern(k): Balance(free, reserved) for k, (free, reserved) in a["balances"].items()}
            acct.withdraw_nonce = a["withdraw_nonce"]
            acct.client_ids = set(a["client_ids"])
            eng.accounts[aid] = acct
        for mid, ms in snap["markets"].items():
            spec = ms["spec"]
            m = Market(C.LaunchMarket(0, mid, **spec))
            m.status = ms["status"]
            eng.markets[mid] = m
            eng._link_market(m)
            for is_buy, rows in ((True, ms["bids"]), (False, ms["asks"])):
                for row in rows:
                    o = _order_from_row(row, mid, is_buy)
                    m.book.insert(o)
                    eng.orders[o.order_id] = o
                    acct = eng.accounts[o.account]
                    acct.orders[o.order_id] = o
                    if o.client_id:
                        acct.live_client[o.client_id] = o.order_id
        eng.deposits = set(snap["deposits"])
        for wid, (account, asset, amount, nonce, expiry, status) in snap["withdrawals"].items():
            eng.withdrawals[wid] = Withdrawal(wid, account, asset, amount, nonce, expiry, status)
        if "prediction" in snap:
            eng.pred.restore(snap["prediction"], eng.accounts)
        if "perp" in snap:
            eng.perp.restore(snap["perp"])
        for o in eng.orders.values():  # after the prediction state, which says what a NO order holds
            asset = eng._held_asset(o)
            if asset is not None:
                o.hold = eng.accounts[o.account].bal.get(asset)
        return eng

    def _held_asset(self, o: Order) -> str | None:
        """The asset a resting order reserves: quote for a buy, base for a sell (prediction
        orders: ``Prediction.locked_asset``); None for a perp order, which reserves nothing."""
        m = self.markets[o.market_id]
        if m.kind == _PERP:
            return None
        if m.kind == _PREDICTION:
            return self.pred.locked_asset(o)
        return m.quote if o.is_buy else m.base


def canonical_json(data: Any) -> bytes:
    """The byte form hashed by ``state_hash``."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _walk(o: Order | None) -> list[Order]:
    out = []
    while o is not None:
        out.append(o)
        o = o.next
    return out


def _order_id(o: Order) -> int:
    return o.order_id


def _order_row(o: Order) -> list[Any]:
    return [
        o.order_id,
        o.account,
        o.price,
        o.qty,
        o.size,
        o.expiry_ts,
        o.reserved,
        o.fee_w,
        o.client_id,
        o.tif,
        o.order_type,
    ]


def _order_from_row(row: list[Any], market_id: str, is_buy: bool) -> Order:
    oid, account, price, qty, size, expiry, reserved, fee_w, cid, tif, otype = row
    return Order(oid, account, is_buy, price, qty, expiry, market_id, cid, size, reserved, fee_w, tif, otype)


_FIELD_TYPES: Final = C.FIELD_TYPES
_new: Final = tuple.__new__
_PlaceOrder: Final = C.PlaceOrder
_OrderAccepted: Final = E.OrderAccepted
_Trade: Final = E.Trade
_Cancelled: Final = E.OrderCancelled
_PREDICTION: Final = MarketKind.PREDICTION.value
_PERP: Final = MarketKind.PERP.value
_SPOT: Final = MarketKind.SPOT.value


def _order_shape(side: str, order_type: str, tif: str, stp_name: str) -> tuple[bool, int]:
    """(is_buy, stp code) of a PlaceOrder's side, order type, tif and stp; a bad one is rejected.

    String comparisons rather than a lookup of the four as one key: compiled, they cost less
    than building and hashing the key, and the result comes back without a tuple object.
    """
    ok = True
    if side == "buy":
        is_buy = True
    elif side == "sell":
        is_buy = False
    else:
        is_buy = ok = False
    if order_type == "limit":
        if not (tif == "gtc" or tif == "ioc" or tif == "fok" or tif == "post_only"):
            ok = False
    elif not (order_type == "market" and (tif == "ioc" or tif == "fok")):
        ok = False
    stp = _stp_of(stp_name)
    if not ok or stp < 0:
        _bad_shape(side, order_type, tif, stp_name)
    return is_buy, stp


def _stp_of(stp_name: str) -> int:
    """The self-trade prevention code of ``stp_name``; -1 if it names none."""
    if stp_name == "cancel_taking":
        return STP_TAKING
    if stp_name == "cancel_resting":
        return STP_RESTING
    if stp_name == "cancel_both":
        return STP_BOTH
    return -1


def _bad_shape(side: str, order_type: str, tif: str, stp_name: str) -> NoReturn:
    """Reject a PlaceOrder whose side, order type, tif or stp is bad, naming the first bad field."""
    if side not in _SIDES:
        _reject(RejectReason.INVALID_FIELD, f"side must be buy or sell, got {side!r}")
    _check_order_kind(order_type, tif)
    _stp_code(stp_name)
    raise AssertionError("unreachable: every field of the shape is valid")  # pragma: no cover


def _check_order_kind(order_type: str, tif: str) -> None:
    """Reject an order type / time-in-force pair that no market kind takes, naming the bad field."""
    if (order_type, tif) not in _SHAPES:
        if order_type == "limit":
            _reject(RejectReason.INVALID_FIELD, f"tif must be one of gtc, ioc, fok, post_only, got {tif!r}")
        if order_type == "market":
            _reject(RejectReason.INVALID_FIELD, f"a market order's tif must be ioc or fok, got {tif!r}")
        _reject(RejectReason.INVALID_FIELD, f"order_type must be limit or market, got {order_type!r}")


def _stp_code(stp_name: str) -> int:
    """The self-trade prevention code of ``stp_name``; an unknown name is rejected."""
    stp = _stp_of(stp_name)
    if stp < 0:
        _reject(
            RejectReason.INVALID_FIELD,
            f"stp must be cancel_resting, cancel_taking or cancel_both, got {stp_name!r}",
        )
    return stp


def _check_order_terms(size: int, min_size: int, expiry: int, ts: int, cid: str, client_ids: set[str]) -> None:
    """The order checks every market kind shares: size, expiry and client id, in that order."""
    if size < min_size:
        if size <= 0:
            _reject(RejectReason.INVALID_SIZE, f"size must be a positive number of lots, got {size}")
        _reject(RejectReason.SIZE_BELOW_MINIMUM, f"size {size} is below the minimum of {min_size} lots")
    if expiry:
        if expiry < 0:
            _reject(RejectReason.INVALID_FIELD, f"expiry_ts must be 0 (never) or positive, got {expiry}")
        if expiry <= ts:
            _reject(RejectReason.EXPIRED, f"expiry_ts {expiry} is not after ts {ts}")
    if cid and cid in client_ids:
        _reject(RejectReason.DUPLICATE_CLIENT_ID, f"client_id {cid!r} was already used by this account")


def _check_post_only(book: Book, is_buy: bool, price: int, what: str) -> None:
    """Reject a post-only order that would take liquidity: it rests in full or not at all.

    ``is_buy`` and ``price`` are the order's side and price in ``book``; ``what`` names the order.
    """
    best = book.best_ask() if is_buy else book.best_bid()
    if best is not None and (best <= price if is_buy else best >= price):
        _reject(RejectReason.POST_ONLY_WOULD_CROSS, f"{what} would cross the best {'ask' if is_buy else 'bid'} {best}")


def _place_order_typed(c: tuple[object, ...]) -> bool:
    """The hot path's ``tuple(map(type, c)) == FIELD_TYPES[PlaceOrder]``: no iterator or tuple is
    built, and ``c``'s items are typed object so that the compiled build reads each as it is."""
    return (
        type(c[0]) is int
        and type(c[1]) is str
        and type(c[2]) is str
        and type(c[3]) is str
        and type(c[4]) is int
        and type(c[5]) is int
        and type(c[6]) is str
        and type(c[7]) is str
        and type(c[8]) is str
        and type(c[9]) is str
        and type(c[10]) is int
        and type(c[11]) is bool
        and type(c[12]) is str
    )


def _type_mismatch(cmd: Any) -> str:
    for name, value, want in zip(cmd._fields, cmd, _FIELD_TYPES[type(cmd)], strict=True):
        if type(value) is not want:
            return f"{cmd.type}.{name} must be {want.__name__}, got {type(value).__name__}"
    return f"{cmd.type}: malformed"  # pragma: no cover


def _ref(cmd: Any) -> str:
    for field in ("client_id", "deposit_id", "withdrawal_id", "market_id"):
        value = getattr(cmd, field, None)
        if isinstance(value, str) and value:
            return value
    order_id = getattr(cmd, "order_id", None)
    if isinstance(order_id, int) and order_id:
        return str(order_id)
    return ""
