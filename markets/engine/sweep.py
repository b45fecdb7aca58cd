"""Liquidation sweeps: every margin domain's maintenance health, kept by the engine as positions change.

``MarginIndex`` is derived data (not in the snapshot, rebuilt from the state on restore).
Cross positions are rows of flat columns (market number, size, cash, the size's *cell*), laid
out in one contiguous block per domain, so a full sweep walks the domains in one loop and
totals each one over its own rows: no per-row scatter into the domain totals, which is what
a per-market layout costs. A cell (``size x unit``, maintenance, weight) is shared by every
row of one size in one market and re-priced once per pricing. A row keeps no total of its
own: its contribution (weighted PnL less maintenance at the stored unit) is computed from its
cash and its cell whenever it is needed, so a sweep writes one total per domain, not a
number per row. The loops are written for the compiled build (native locals, attributes of
compiled classes, no per-row objects): integers stay exact in both builds, since a compiled
``int`` only leaves its unboxed fast path for values beyond 2^62.

A full block moves to the end with room for half as many rows again (amortised O(1) per
added row); the rows it leaves are zeroed. Once they are an eighth of the columns,
``compact_if_due`` copies every block down, keeping its room (it walks every row, so it
never runs inside a command; the sequencer calls ``Engine.maintain()`` when idle). Left
alone, the abandoned rows stay below twice the live blocks' room (each move leaves a block
two thirds the size of the next), so memory stays bounded; a sweep visits live rows only.
Isolated positions, each its own domain, stay per-market columns. Per market, ``where``
maps a domain to its cross row, which a per-market tick gathers.

``Perp`` calls ``changed(pos)`` after every change to a position record (fills, funding,
liquidation steps, ADL, halt settlement, margin adjustment, mode change): O(1), the row is
rewritten and its domain's *surplus* (Σ weighted PnL - maintenance of its cross rows)
moves by the difference at the stored mark.

Collateral is not copied: a domain's ``free + reserved`` balance and its weighted spot and
prediction holdings are read from the ledger itself when health is asked for. All are
never negative, so only a domain whose surplus is negative needs its free balance, and only
one whose surplus plus free balance is negative needs the rest; deposits, transfers,
withdrawals and spot or prediction fills need no hook.

- ``sweep(eng, ts)``: every market re-priced (marks moved everywhere);
- ``update_market(eng, m, ts)``: only market ``m`` re-priced; its holders' surplus moves by the
  difference between the new and the old contribution;
- ``liquidatable(eng, ts)``: the domains below maintenance at the prices last applied.

The integers are exactly ``Perp.cross_margin`` / ``Perp.isolated_margin``'s (tests check
the result against ``Perp.under_maintenance``). A domain with cross positions in several
collateral assets takes the engine's own path.
"""

from __future__ import annotations

from itertools import repeat
from typing import TYPE_CHECKING, Any

from mypy_extensions import mypyc_attr

from .margin import BPS, MarginTier

if TYPE_CHECKING:
    from .engine import Engine
    from .ledger import Account, Balance
    from .perp import Position

__all__ = ["MarginIndex"]

_CROSS = "cross"


def _mm(tiers: list[MarginTier], notional: int) -> int:
    for cap, _im, mm in tiers:
        if cap == 0 or notional <= cap:
            return -((-notional * mm) // BPS)
    return 0  # pragma: no cover - the last cap is 0


@mypyc_attr(acyclic=True)
class _Cell:
    """One size in one market at ``unit``: ``su`` = size x unit, maintenance ``mm``, weight ``w``.

    ``was_su`` / ``was_mm`` are the values of the pricing before the last, so a tick moves
    each row's domain by the difference without a per-row total. Only ints: acyclic.
    """

    __slots__ = ("su", "mm", "w", "was_su", "was_mm")

    def __init__(self, su: int, mm: int, w: int) -> None:
        self.su = su
        self.mm = mm
        self.w = w
        self.was_su = su
        self.was_mm = mm


def _x(cash: int, cell: _Cell) -> int:
    """A cross row's weighted PnL less maintenance at its cell's unit."""
    p = cash + cell.su
    if p > 0:
        p = p * cell.w // BPS
    return p - cell.mm


class _Dom:
    """One margin domain: its ledger account, its block of cross rows and their surplus.

    ``bal`` is the ledger's own dict of the account's entries (read, never written).
    ``asset`` is the one collateral asset of its cross rows: "" none, None several.
    """

    __slots__ = ("name", "acct", "bal", "assets", "asset", "surplus", "start", "stop", "room")

    def __init__(self, name: str, acct: Account) -> None:
        self.name = name
        self.acct = acct
        self.bal: dict[str, Balance] = acct.bal
        self.assets: dict[str, int] = {}  # cross rows per collateral asset
        self.asset: str | None = ""
        # Σ (weighted PnL - maintenance) of the cross rows at the stored units: the domain
        # is below maintenance iff this + collateral + holdings < 0
        self.surplus = 0
        self.start = 0  # its block: live rows start..stop, spare ones up to start + room
        self.stop = 0
        self.room = 0


class _Market:
    """One market: its pricing, its cross rows' places, its isolated positions as columns.

    A row (cross or isolated) refers to its size's cell at ``unit``, shared by every row of
    that size in the market, so re-pricing computes once per distinct size, and a row's pass
    reads its cash and a cell (few, hot in the CPU cache) instead of three objects allocated
    at different times. ``n`` counts the rows per size; a cell with no row left is dropped
    at the next pricing. ``cache`` is maintenance per |size| at ``unit``. ``i_row`` maps a
    domain number to its isolated row; a removed row is swapped with the last one, so every
    change is O(1).
    """

    __slots__ = (
        "no",
        "tiers",
        "weight",
        "asset",
        "unit",
        "cache",
        "cells",
        "n",
        "where",
        "i_row",
        "i_dom",
        "i_size",
        "i_cash",
        "i_margin",
        "i_base",
        "i_cell",
        "under",
    )

    def __init__(self, no: int, tiers: list[MarginTier], weight: int, asset: str) -> None:
        self.no = no
        self.tiers = tiers
        self.weight = weight
        self.asset = asset
        self.unit = 0  # mark x tick at the last pricing (0 before any)
        self.cache: dict[int, int] = {}
        self.cells: dict[int, _Cell] = {}
        self.n: dict[int, int] = {}
        self.where: dict[int, int] = {}  # domain -> its cross row
        self.i_row: dict[int, int] = {}
        self.i_dom: list[int] = []
        self.i_size: list[int] = []
        self.i_cash: list[int] = []
        self.i_margin: list[int] = []
        self.i_base: list[int] = []  # margin + cash
        self.i_cell: list[_Cell] = []
        self.under: set[int] = set()  # isolated positions below maintenance at ``unit``

    def move(self, old: int | None, size: int) -> _Cell:
        """A row's size went from ``old`` (None: a new row) to ``size``: the cell of ``size``.

        A cell left with no row stays until the next pricing drops it, so a size that comes
        and goes between sweeps costs two counter updates, not a cell each time.
        """
        n = self.n
        if old is not None:
            n[old] -= 1
        cell = self.cells.get(size)
        if cell is None:
            a = size if size >= 0 else -size
            mm = self.cache.get(a)
            if mm is None:
                mm = self.cache[a] = _mm(self.tiers, a * self.unit)
            cell = self.cells[size] = _Cell(size * self.unit, mm, self.weight)
            n[size] = 1
        else:
            n[size] += 1
        return cell

    def price(self, unit: int) -> None:
        """Every cell at ``unit`` (those with no row dropped); the isolated positions' health."""
        self.unit = unit
        tiers = self.tiers
        n, cells = self.n, self.cells
        for size in [size for size, k in n.items() if not k]:
            del n[size], cells[size]
        cache: dict[int, int] = {}
        for size, cell in cells.items():
            a = size if size >= 0 else -size
            mm = cache.get(a)
            if mm is None:
                mm = cache[a] = _mm(tiers, a * unit)
            cell.was_su = cell.su
            cell.was_mm = cell.mm
            cell.su = size * unit
            cell.mm = mm
        self.cache = cache
        # the columns have one length; strict= would keep the compiled build from looping natively
        self.under = {i for i, b, k in zip(self.i_dom, self.i_base, self.i_cell) if b + k.su < k.mm}  # noqa: B905


def _pop(row: dict[int, int], r: int, cols: list[list[Any]], dom: list[int]) -> None:
    """Remove row ``r`` by moving the last row into its place."""
    last = len(dom) - 1
    if r != last:
        row[dom[last]] = r
        for col in cols:
            col[r] = col[last]
    for col in cols:
        col.pop()


# a spare or abandoned cross row: no size, no cash, this cell: it prices to 0
_ZERO = _Cell(0, 0, 0)
_ZEROS = (0, 0, 0, _ZERO)  # per column of ``MarginIndex._cols()``


class MarginIndex:
    """Maintenance health of every domain; ``liquidatable()`` equals ``Perp.under_maintenance``."""

    def __init__(self, eng: Engine) -> None:
        """Built from the engine's current state, unpriced (call ``sweep(eng, ts)`` to price it).

        It keeps the engine's account and perp market dicts, never the engine itself: the
        engine holds the index, and a reference back would make a cycle that only the
        garbage collector could free (runtime.py). Whatever needs the engine takes it.
        """
        self.accounts = eng.accounts
        self.perp_markets = eng.perp.markets
        self.number: dict[str, int] = {}
        self.doms: list[_Dom] = []
        self.multi: set[int] = set()  # domains with cross rows in several collateral assets
        # the cross rows, in blocks
        self.mk: list[int] = []  # market number
        self.size: list[int] = []
        self.cash: list[int] = []
        self.cell: list[_Cell] = []
        self.abandoned = 0
        self.cols: dict[str, _Market] = {}
        self.by_no: list[_Market] = []
        perp = eng.perp
        for mid in perp.markets:
            self.add_market(mid)
        # each domain's cross rows appended as one block, exactly full (what ``changed`` would
        # write, without a block move per row); isolated records through ``changed``
        mk, sizes, cashes, cells = self.mk, self.size, self.cash, self.cell
        for aid, recs in perp.domains.items():
            i = self._domain(aid)
            d = self.doms[i]
            d.start = len(mk)
            for pos in recs.values():
                if pos.mode != _CROSS:
                    self.changed(pos)
                    continue
                c = self.cols[pos.market_id]
                size, cash = pos.size, pos.cash
                cell = c.move(None, size)
                c.where[i] = len(mk)
                mk.append(c.no)
                sizes.append(size)
                cashes.append(cash)
                cells.append(cell)
                d.surplus += _x(cash, cell)
                self._count(d, i, c.asset, 1)
            d.stop = len(mk)
            d.room = d.stop - d.start

    # -- maintenance (called by Perp) ----------------------------------------------------------

    def add_market(self, market_id: str) -> None:
        pm = self.perp_markets[market_id]
        c = self.cols[market_id] = _Market(len(self.by_no), pm.tiers, pm.weight_bps, pm.collateral)
        self.by_no.append(c)

    def _domain(self, account: str) -> int:
        i = self.number[account] = len(self.doms)
        self.doms.append(_Dom(account, self.accounts[account]))
        return i

    def _count(self, d: _Dom, i: int, asset: str, step: int) -> None:
        counts = d.assets
        n = counts.get(asset, 0) + step
        if n:
            counts[asset] = n
            if n > 1:
                return
        else:
            del counts[asset]
        if len(counts) > 1:
            d.asset = None
            self.multi.add(i)
        else:
            d.asset = next(iter(counts), "")
            self.multi.discard(i)

    def changed(self, pos: Position) -> None:
        """The record ``pos`` was created or its size, cash, margin or mode changed: O(1)."""
        i = self.number.get(pos.account)
        if i is None:
            i = self._domain(pos.account)
        c = self.cols[pos.market_id]
        size, cash = pos.size, pos.cash
        if pos.mode == _CROSS:
            g = c.where.get(i)
            if g is None:
                g = self._add_cross(c, i)
            # the row's part of the surplus before and after: _x, inline (every fill comes here;
            # two calls would cost the interpreted build a seventh of this method)
            cell = self.cell[g]
            p = self.cash[g] + cell.su
            if p > 0:
                p = p * cell.w // BPS
            was = p - cell.mm
            old = self.size[g]
            if old != size:
                new = c.cells.get(size)
                if new is None:
                    new = c.move(old, size)
                else:  # c.move's common case, inline
                    n = c.n
                    n[old] -= 1
                    n[size] += 1
                cell = self.cell[g] = new
                self.size[g] = size
            self.cash[g] = cash
            p = cash + cell.su
            if p > 0:
                p = p * cell.w // BPS
            self.doms[i].surplus += p - cell.mm - was
            return
        r = c.i_row.get(i)
        if r is None:
            r = self._add_isolated(c, i)
        if c.i_size[r] != size:
            c.i_cell[r] = c.move(c.i_size[r], size)
            c.i_size[r] = size
        c.i_cash[r], c.i_margin[r] = cash, pos.margin
        c.i_base[r] = base = pos.margin + cash
        cell = c.i_cell[r]
        if base + cell.su < cell.mm:
            c.under.add(i)
        else:
            c.under.discard(i)

    def _cols(self) -> tuple[list[Any], ...]:
        return self.mk, self.size, self.cash, self.cell

    def _add_cross(self, c: _Market, i: int) -> int:
        if i in c.i_row:  # the mode changed (only ever with nothing in the record)
            r = c.i_row.pop(i)
            c.n[c.i_size[r]] -= 1
            _pop(c.i_row, r, [c.i_dom, c.i_size, c.i_cash, c.i_margin, c.i_base, c.i_cell], c.i_dom)
            c.under.discard(i)
        d = self.doms[i]
        if d.stop - d.start == d.room:
            self._move(d, i)
        g = d.stop
        d.stop = g + 1
        self.mk[g] = c.no
        self.cell[g] = c.move(None, 0)  # size and cash are 0: the row adds 0
        c.where[i] = g
        self._count(d, i, c.asset, 1)
        return g

    def _move(self, d: _Dom, i: int) -> None:
        """Domain ``i``'s block is full: copy it to the end with room for half as many again."""
        b = slice(d.start, d.stop)
        room = d.room
        grown = room + (room >> 1 or 1)
        start = len(self.mk)
        for col, zero in zip(self._cols(), _ZEROS, strict=True):
            col.extend(col[b])
            col.extend(repeat(zero, grown - room))
            col[b] = repeat(zero, room)  # abandoned: prices to 0
        by_no = self.by_no
        for g in range(start, start + room):
            by_no[self.mk[g]].where[i] = g
        self.abandoned += room
        d.room = grown
        d.start, d.stop = start, start + room

    def compact_if_due(self) -> bool:
        """Compact once abandoned rows are an eighth of the columns; whether it did.

        Not called by commands: a compaction walks every row (about half a second at W5's size).
        ``Engine.maintain`` calls it, between commands.
        """
        if self.abandoned * 8 <= len(self.mk):
            return False
        self._compact()
        return True

    def _compact(self) -> None:
        """Copy every block down over the abandoned rows (each keeps its room)."""
        cols = self._cols()
        fresh: tuple[list[Any], ...] = tuple([] for _ in cols)
        by_no = self.by_no
        mk = self.mk
        for i, d in enumerate(self.doms):
            b = slice(d.start, d.stop)
            start = len(fresh[0])
            for old, new, zero in zip(cols, fresh, _ZEROS, strict=True):
                new.extend(old[b])
                new.extend(repeat(zero, d.room - (d.stop - d.start)))
            for j, g in enumerate(range(d.start, d.stop)):
                by_no[mk[g]].where[i] = start + j
            d.start, d.stop = start, start + d.stop - d.start
        self.mk, self.size, self.cash, self.cell = fresh
        self.abandoned = 0

    def _add_isolated(self, c: _Market, i: int) -> int:
        g = c.where.pop(i, None)
        if g is not None:
            d = self.doms[i]
            d.surplus -= _x(self.cash[g], self.cell[g])
            c.n[self.size[g]] -= 1
            last = d.stop - 1
            cols = self._cols()
            if g != last:
                for col in cols:
                    col[g] = col[last]
                self.by_no[self.mk[g]].where[i] = g
            for col, zero in zip(cols, _ZEROS, strict=True):
                col[last] = zero
            d.stop = last
            self._count(d, i, c.asset, -1)
        r = c.i_row[i] = len(c.i_dom)
        c.i_dom.append(i)
        for col in (c.i_size, c.i_cash, c.i_margin, c.i_base):
            col.append(0)
        c.i_cell.append(c.move(None, 0))
        return r

    # -- pricing -----------------------------------------------------------------------------

    def _unit(self, eng: Engine, market_id: str, ts: int) -> int:
        m = eng.markets[market_id]
        return (eng.perp.mark(eng.perp.markets[market_id], m, ts) or 0) * m.tick

    def units(self) -> dict[str, int]:
        """Each market's mark x tick at its last pricing."""
        return {mid: c.unit for mid, c in self.cols.items()}

    def sweep(self, eng: Engine, ts: int) -> list[tuple[str, str]]:
        """Every market re-priced at ``ts`` (marks moved everywhere); the liquidatable list."""
        return self.reprice(eng, {mid: self._unit(eng, mid, ts) for mid in self.cols}, ts)

    def reprice(self, eng: Engine, units: dict[str, int], ts: int) -> list[tuple[str, str]]:
        """Every market priced at its given mark x tick; totals computed afresh."""
        for mid, c in self.cols.items():
            c.price(units[mid])
        cash, cells = self.cash, self.cell
        for d in self.doms:
            total = 0
            a, b = d.start, d.stop
            # zip of the block's slices: as fast as indexing compiled, a seventh faster interpreted
            for ca, cell in zip(cash[a:b], cells[a:b]):  # noqa: B905 - one length; strict= is not compiled natively
                p = ca + cell.su  # _x, inline: a call per row costs the interpreted loop a sixth more
                if p > 0:
                    p = p * cell.w // BPS
                total += p - cell.mm
            d.surplus = total
        return self.liquidatable(eng, ts)

    def update_market(self, eng: Engine, market_id: str, ts: int) -> list[tuple[str, str]]:
        """Market ``market_id`` re-priced at ``ts`` (its mark moved): only its holders' totals change."""
        c = self.cols[market_id]
        c.price(self._unit(eng, market_id, ts))
        cash, cells, doms = self.cash, self.cell, self.doms
        for i, g in c.where.items():
            cell = cells[g]
            ca = cash[g]
            p = ca + cell.su
            if p > 0:
                p = p * cell.w // BPS
            q = ca + cell.was_su
            if q > 0:
                q = q * cell.w // BPS
            doms[i].surplus += p - cell.mm - (q - cell.was_mm)
        return self.liquidatable(eng, ts)

    def liquidatable(self, eng: Engine, ts: int) -> list[tuple[str, str]]:
        """Domains below maintenance at the stored prices, sorted like ``Perp.under_maintenance``.

        ``ts`` only serves the domains with several collateral assets, priced the engine's way.
        """
        perp = eng.perp
        weights = perp.weights
        out: list[tuple[str, str]] = []
        # free balances, reservations and holdings are >= 0: a domain needs its free balance
        # only when its surplus is negative, and the rest only when that does not cover it
        for d in self.doms:
            x = d.surplus
            if x >= 0:
                continue
            a = d.asset
            if not a:  # "": no cross row; None: several assets (below)
                continue
            b = d.bal.get(a)
            if b is not None:
                x += b.free
                if x >= 0:
                    continue
                x += b.reserved
            if x < 0 and (not weights or x + perp.holdings_value(eng, d.acct, a) < 0):
                out.append((d.name, ""))
        doms = self.doms
        for mid, c in self.cols.items():
            out += [(doms[i].name, mid) for i in c.under]
        for i in self.multi:
            d = doms[i]
            for a in d.assets:
                eq, _, mm = perp.cross_margin(eng, d.name, a, ts)
                if eq < mm:
                    out.append((d.name, ""))
                    break
        return sorted(out)

    def health(self) -> tuple[dict[str, int], dict[str, list[str]]]:
        """({account: cross weighted PnL - maintenance}, {market: isolated under}) (for tests)."""
        doms = self.doms
        totals = {d.name: d.surplus for d in doms}
        return totals, {mid: sorted(doms[i].name for i in c.under) for mid, c in self.cols.items()}

    def rows(self) -> dict[str, tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int, int]]]]:
        """Per market, the rows by account id (tests compare a kept index with a fresh one)."""
        doms, size, cash = self.doms, self.size, self.cash
        out = {}
        for mid, c in self.cols.items():
            x = {doms[d].name: (size[g], cash[g]) for d, g in c.where.items()}
            i = {doms[d].name: (s, ca, g) for d, s, ca, g in zip(c.i_dom, c.i_size, c.i_cash, c.i_margin, strict=True)}
            out[mid] = (x, i)
        return out
