"""Liquidation sweeps: every margin domain's maintenance health, kept by the engine as positions change.

``MarginIndex`` is derived data (not in the snapshot, rebuilt from the state on restore).
It keeps the perp positions as per-market columns (domain number, size, |size|, cash, and
for isolated positions their margin) and, per domain, the weighted PnL less the maintenance
of its cross positions (its *surplus*) at each market's last priced mark. ``Perp`` calls
``changed(pos)`` after every change to a position record (fills, funding, liquidation
steps, ADL, halt settlement, margin adjustment, mode change): O(1) per call, the row is
replaced and the domain's surplus moves by the difference at the stored mark.

Collateral is not copied: a domain's ``free + reserved`` balance and its weighted spot and
prediction holdings are read from the ledger itself when health is asked for. All are
never negative, so only a domain whose surplus is negative needs that read, and deposits,
transfers, withdrawals and spot or prediction fills need no hook.

- ``sweep(ts)``: every market re-priced (marks moved everywhere);
- ``update_market(m, ts)``: only market ``m`` re-priced; its holders' surplus moves by the
  difference between the new and the old contribution;
- ``liquidatable(ts)``: the domains below maintenance at the prices last applied.

The integers are exactly ``Perp.cross_margin`` / ``Perp.isolated_margin``'s (tests check
the result against ``Perp.under_maintenance``). A domain with cross positions in several
collateral assets takes the engine's own path.
"""

from __future__ import annotations

from collections import deque
from itertools import compress, repeat
from operator import add, lt, mul, sub
from typing import TYPE_CHECKING

from .margin import BPS, MarginTier

if TYPE_CHECKING:
    from .engine import Account, Engine
    from .perp import Position

__all__ = ["MarginIndex"]

_CROSS = "cross"


def _mm(tiers: list[MarginTier], notional: int) -> int:
    for cap, _im, mm in tiers:
        if cap == 0 or notional <= cap:
            return -((-notional * mm) // BPS)
    return 0  # pragma: no cover - the last cap is 0


class _Cols:
    """One market's position records as columns: cross ones and isolated ones apart.

    ``x_row`` / ``i_row`` map a domain number to its row; a removed row is swapped with the
    last one, so every change is O(1). A cross row keeps what it adds to its domain's totals,
    so a change moves them by the difference. ``cache`` is maintenance per |size| at ``unit``.
    """

    __slots__ = (
        "tiers",
        "weight",
        "asset",
        "unit",
        "cache",
        "x_row",
        "x_dom",
        "x_size",
        "x_abs",
        "x_cash",
        "x_s",
        "i_row",
        "i_dom",
        "i_size",
        "i_abs",
        "i_cash",
        "i_margin",
        "under",
    )

    def __init__(self, tiers: list[MarginTier], weight: int, asset: str) -> None:
        self.tiers = tiers
        self.weight = weight
        self.asset = asset
        self.unit = 0  # mark x tick at the last pricing (0 before any)
        self.cache: dict[int, int] = {}
        self.x_row: dict[int, int] = {}
        self.x_dom: list[int] = []
        self.x_size: list[int] = []
        self.x_abs: list[int] = []
        self.x_cash: list[int] = []
        self.x_s: list[int] = []  # each row's weighted PnL less its maintenance, at ``unit``
        self.i_row: dict[int, int] = {}
        self.i_dom: list[int] = []
        self.i_size: list[int] = []
        self.i_abs: list[int] = []
        self.i_cash: list[int] = []
        self.i_margin: list[int] = []
        self.under: set[int] = set()  # isolated positions below maintenance at ``unit``

    def mm(self, a: int) -> int:
        r = self.cache.get(a)
        if r is None:
            r = self.cache[a] = _mm(self.tiers, a * self.unit)
        return r

    def rows(self) -> tuple[dict[int, tuple[int, int]], dict[int, tuple[int, int, int]]]:
        """{domain: (size, cash)} cross, {domain: (size, cash, margin)} isolated (for tests)."""
        x = {d: (s, c) for d, s, c in zip(self.x_dom, self.x_size, self.x_cash, strict=True)}
        i = {d: (s, c, g) for d, s, c, g in zip(self.i_dom, self.i_size, self.i_cash, self.i_margin, strict=True)}
        return x, i


def _scatter(total: list[int], dom: list[int], x: list[int]) -> None:
    """``total[dom[j]] += x[j]`` for every j, as C-level maps (``dom`` has no repeats)."""
    deque(map(total.__setitem__, dom, map(add, map(total.__getitem__, dom), x)), maxlen=0)


def _pop(row: dict[int, int], r: int, cols: list[list[int]], dom: list[int]) -> None:
    """Remove row ``r`` by moving the last row into its place."""
    last = len(dom) - 1
    if r != last:
        row[dom[last]] = r
        for col in cols:
            col[r] = col[last]
    for col in cols:
        col.pop()


class MarginIndex:
    """Maintenance health of every domain; ``liquidatable()`` equals ``Perp.under_maintenance``."""

    def __init__(self, eng: Engine) -> None:
        """Built from the engine's current state, unpriced (call ``sweep(ts)`` to price it)."""
        self.eng = eng
        self.names: list[str] = []
        self.number: dict[str, int] = {}
        self.accts: list[Account] = []
        self.frees: list[dict[str, int]] = []  # each domain's free balances (the ledger's own dict)
        self.assets: list[dict[str, int]] = []  # cross records per collateral asset
        self.asset: list[str | None] = []  # the one cross collateral asset; "" none; None several
        self.multi: set[int] = set()
        # Σ (weighted PnL - maintenance) of the domain's cross positions at the stored units:
        # the domain is below maintenance iff this + collateral + holdings < 0
        self.surplus: list[int] = []
        self.cols: dict[str, _Cols] = {}
        perp = eng.perp
        for mid in perp.markets:
            self.add_market(mid)
        for recs in perp.domains.values():
            for pos in recs.values():
                self.changed(pos)

    # -- maintenance (called by Perp) ----------------------------------------------------------

    def add_market(self, market_id: str) -> None:
        pm = self.eng.perp.markets[market_id]
        self.cols[market_id] = _Cols(pm.tiers, pm.weight_bps, pm.collateral)

    def _domain(self, account: str) -> int:
        i = self.number[account] = len(self.names)
        self.names.append(account)
        acct = self.eng.accounts[account]
        self.accts.append(acct)
        self.frees.append(acct.free)
        self.assets.append({})
        self.asset.append("")
        self.surplus.append(0)
        return i

    def _count(self, i: int, asset: str, step: int) -> None:
        counts = self.assets[i]
        n = counts.get(asset, 0) + step
        if n:
            counts[asset] = n
            if n > 1:
                return
        else:
            del counts[asset]
        if len(counts) > 1:
            self.asset[i] = None
            self.multi.add(i)
        else:
            self.asset[i] = next(iter(counts), "")
            self.multi.discard(i)

    def changed(self, pos: Position) -> None:
        """The record ``pos`` was created or its size, cash, margin or mode changed: O(1)."""
        i = self.number.get(pos.account)
        if i is None:
            i = self._domain(pos.account)
        c = self.cols[pos.market_id]
        size, cash = pos.size, pos.cash
        a = size if size >= 0 else -size
        m = c.cache.get(a)
        if m is None:
            m = c.mm(a)
        p = cash + size * c.unit
        if pos.mode == _CROSS:
            r = c.x_row.get(i)
            if r is None:
                r = self._add_cross(c, i)
            x = (p * c.weight // BPS if p > 0 else p) - m
            self.surplus[i] += x - c.x_s[r]
            c.x_size[r], c.x_abs[r], c.x_cash[r], c.x_s[r] = size, a, cash, x
            return
        r = c.i_row.get(i)
        if r is None:
            r = self._add_isolated(c, i)
        c.i_size[r], c.i_abs[r], c.i_cash[r], c.i_margin[r] = size, a, cash, pos.margin
        if pos.margin + p < m:
            c.under.add(i)
        else:
            c.under.discard(i)

    def _add_cross(self, c: _Cols, i: int) -> int:
        if i in c.i_row:  # the mode changed (only ever with nothing in the record)
            r = c.i_row.pop(i)
            _pop(c.i_row, r, [c.i_dom, c.i_size, c.i_abs, c.i_cash, c.i_margin], c.i_dom)
            c.under.discard(i)
        r = c.x_row[i] = len(c.x_dom)
        c.x_dom.append(i)
        c.x_size.append(0)
        c.x_abs.append(0)
        c.x_cash.append(0)
        c.x_s.append(0)
        self._count(i, c.asset, 1)
        return r

    def _add_isolated(self, c: _Cols, i: int) -> int:
        if i in c.x_row:
            r = c.x_row.pop(i)
            self.surplus[i] -= c.x_s[r]
            _pop(c.x_row, r, [c.x_dom, c.x_size, c.x_abs, c.x_cash, c.x_s], c.x_dom)
            self._count(i, c.asset, -1)
        r = c.i_row[i] = len(c.i_dom)
        c.i_dom.append(i)
        c.i_size.append(0)
        c.i_abs.append(0)
        c.i_cash.append(0)
        c.i_margin.append(0)
        return r

    # -- pricing -----------------------------------------------------------------------------

    def _unit(self, market_id: str, ts: int) -> int:
        eng = self.eng
        m = eng.markets[market_id]
        return (eng.perp.mark(eng.perp.markets[market_id], m, ts) or 0) * m.tick

    def _price(self, c: _Cols, unit: int) -> None:
        """Market ``c`` at a new mark x tick: each row's contributions, isolated health."""
        c.unit = unit
        tiers = c.tiers
        cache = c.cache = {a: _mm(tiers, a * unit) for a in set(c.x_abs) | set(c.i_abs)}
        weight = c.weight
        pnl = list(map(add, c.x_cash, map(mul, c.x_size, repeat(unit))))  # C-level: no bytecode per row
        c.x_s = [
            (p * weight // BPS if p > 0 else p) - m for p, m in zip(pnl, map(cache.__getitem__, c.x_abs), strict=True)
        ]
        iso_eq = map(add, map(add, c.i_margin, c.i_cash), map(mul, c.i_size, repeat(unit)))
        c.under = set(compress(c.i_dom, map(lt, iso_eq, map(cache.__getitem__, c.i_abs))))

    def sweep(self, ts: int) -> list[tuple[str, str]]:
        """Every market re-priced at ``ts`` (marks moved everywhere); the liquidatable list."""
        return self.reprice({mid: self._unit(mid, ts) for mid in self.cols}, ts)

    def reprice(self, units: dict[str, int], ts: int) -> list[tuple[str, str]]:
        """Every market priced at its given mark x tick; totals computed afresh."""
        n = len(self.names)
        surplus = [0] * n
        for mid, c in self.cols.items():
            self._price(c, units[mid])
            _scatter(surplus, c.x_dom, c.x_s)
        self.surplus = surplus
        return self.liquidatable(ts)

    def update_market(self, market_id: str, ts: int) -> list[tuple[str, str]]:
        """Market ``market_id`` re-priced at ``ts`` (its mark moved): only its holders' totals change."""
        c = self.cols[market_id]
        old = c.x_s
        self._price(c, self._unit(market_id, ts))
        _scatter(self.surplus, c.x_dom, list(map(sub, c.x_s, old)))
        return self.liquidatable(ts)

    def liquidatable(self, ts: int) -> list[tuple[str, str]]:
        """Domains below maintenance at the stored prices, sorted like ``Perp.under_maintenance``.

        ``ts`` only serves the domains with several collateral assets, priced the engine's way.
        """
        eng = self.eng
        perp = eng.perp
        names, accts, asset = self.names, self.accts, self.asset
        out: list[tuple[str, str]] = []
        # collateral, reservations and holdings are >= 0: only a domain whose perp part alone is
        # below maintenance needs the ledger, and only one still below with its free balance the rest
        surplus = self.surplus
        short = [
            (i, a)
            for i, x, a, free in zip(range(len(surplus)), surplus, asset, self.frees, strict=True)
            if x < 0 and a and x + free.get(a, 0) < 0
        ]
        weights = perp.weights
        for i, a in short:
            acct = accts[i]
            x = surplus[i] + acct.free.get(a, 0) + acct.reserved.get(a, 0)
            if x < 0 and (not weights or x + perp.holdings_value(eng, acct, a) < 0):
                out.append((names[i], ""))
        for mid, c in self.cols.items():
            out += [(names[i], mid) for i in c.under]
        for i in self.multi:
            aid = names[i]
            for a in self.assets[i]:
                eq, _, mm = perp.cross_margin(eng, aid, a, ts)
                if eq < mm:
                    out.append((aid, ""))
                    break
        return sorted(out)

    def health(self) -> tuple[dict[str, int], dict[str, list[str]]]:
        """({account: cross weighted PnL - maintenance}, {market: isolated under}) (for tests)."""
        names = self.names
        totals = {names[i]: x for i, x in enumerate(self.surplus)}
        return totals, {mid: sorted(names[i] for i in c.under) for mid, c in self.cols.items()}

    def rows(self) -> dict[str, tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int, int]]]]:
        """Per market, the rows by account id (tests compare a kept index with a fresh one)."""
        names = self.names
        out = {}
        for mid, c in self.cols.items():
            x, i = c.rows()
            out[mid] = ({names[d]: v for d, v in x.items()}, {names[d]: v for d, v in i.items()})
        return out
