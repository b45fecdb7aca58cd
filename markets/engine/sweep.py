"""Liquidation sweeps: every margin domain's maintenance health, kept by the engine as positions change.

``MarginIndex`` is derived data (not in the snapshot, rebuilt from the state on restore).
Cross positions are rows of flat columns (market number, size, cash, the size's *cell*, and
the row's weighted PnL less maintenance at its market's last priced mark), laid out in one
contiguous block per domain, so a full sweep prices every row in one comprehension and
totals each domain with one ``sum`` over its slice: no per-row scatter into the domain
totals, which is what a per-market layout costs. A cell ``[size x unit, maintenance,
weight]`` is shared by every row of one size in one market and re-priced once per sweep.
A full block moves to the end with room for half as many rows again (amortised O(1) per
added row); the rows it leaves are zeroed. Once they are an eighth of the columns,
``compact_if_due`` copies every block down, keeping its room: about 1 s at 429,031 rows
(W5), so it never runs inside a command; the sequencer calls ``Engine.maintain()`` when
idle. Left alone, the abandoned rows stay below twice the live blocks' room (each move
leaves a block two thirds the size of the next), so memory stays bounded and a full sweep
scans at most three times the rows it needs. Isolated positions,
each its own domain, stay per-market columns. Per market, ``where`` maps a domain to its
cross row, which a per-market tick gathers.

``Perp`` calls ``changed(pos)`` after every change to a position record (fills, funding,
liquidation steps, ADL, halt settlement, margin adjustment, mode change): O(1), the row is
rewritten and its domain's *surplus* (Σ weighted PnL - maintenance of its cross rows)
moves by the difference at the stored mark.

Collateral is not copied: a domain's ``free + reserved`` balance and its weighted spot and
prediction holdings are read from the ledger itself when health is asked for. All are
never negative, so only a domain whose surplus plus free balance is negative (one C-level
pass over all domains) needs the rest, and deposits, transfers, withdrawals and spot or
prediction fills need no hook.

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
from operator import add, lt, sub
from typing import TYPE_CHECKING, Any

from .margin import BPS, MarginTier

if TYPE_CHECKING:
    from .engine import Engine
    from .ledger import Account, Balance
    from .perp import Position

__all__ = ["MarginIndex"]

_CROSS = "cross"


def _free_of(bal: dict[str, Balance], asset: str | None) -> int:
    """A domain's free balance of its one cross asset (0 without one, or without an entry)."""
    b = bal.get(asset) if asset else None
    return 0 if b is None else b.free


def _mm(tiers: list[MarginTier], notional: int) -> int:
    for cap, _im, mm in tiers:
        if cap == 0 or notional <= cap:
            return -((-notional * mm) // BPS)
    return 0  # pragma: no cover - the last cap is 0


class _Market:
    """One market: its pricing, its cross rows' places, its isolated positions as columns.

    A row (cross or isolated) refers to its size's *cell* ``[size x unit, maintenance,
    weight]`` at ``unit``, shared by every row of that size in the market, so re-pricing
    computes once per distinct size, and a row's pass reads its cash and a cell (few, hot
    in the CPU cache) instead of three objects allocated at different times. ``n`` counts
    the rows per size; a cell with no row left is dropped at the next pricing. ``cache`` is maintenance per
    |size| at ``unit``. ``i_row`` maps a domain number to its isolated row; a removed row
    is swapped with the last one, so every change is O(1).
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
        self.cells: dict[int, list[int]] = {}
        self.n: dict[int, int] = {}
        self.where: dict[int, int] = {}  # domain -> its cross row
        self.i_row: dict[int, int] = {}
        self.i_dom: list[int] = []
        self.i_size: list[int] = []
        self.i_cash: list[int] = []
        self.i_margin: list[int] = []
        self.i_base: list[int] = []  # margin + cash
        self.i_cell: list[list[int]] = []
        self.under: set[int] = set()  # isolated positions below maintenance at ``unit``

    def move(self, old: int | None, size: int) -> list[int]:
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
            cell = self.cells[size] = [size * self.unit, mm, self.weight]
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
            cell[0] = size * unit
            cell[1] = mm
        self.cache = cache
        self.under = {i for i, b, (su, mm, _w) in zip(self.i_dom, self.i_base, self.i_cell, strict=True) if b + su < mm}


def _scatter(total: list[int], dom: list[int], x: list[int]) -> None:
    """``total[dom[j]] += x[j]`` for every j, as C-level maps (``dom`` has no repeats)."""
    deque(map(total.__setitem__, dom, map(add, map(total.__getitem__, dom), x)), maxlen=0)


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
_ZERO = [0, 0, 0]
_ZEROS = (0, 0, 0, _ZERO, 0)  # per column of ``MarginIndex._cols()``


class MarginIndex:
    """Maintenance health of every domain; ``liquidatable()`` equals ``Perp.under_maintenance``."""

    def __init__(self, eng: Engine) -> None:
        """Built from the engine's current state, unpriced (call ``sweep(ts)`` to price it)."""
        self.eng = eng
        self.names: list[str] = []
        self.number: dict[str, int] = {}
        self.accts: list[Account] = []
        self.frees: list[dict[str, Balance]] = []  # each domain's ledger entries (the ledger's own dict)
        self.assets: list[dict[str, int]] = []  # cross records per collateral asset
        self.asset: list[str | None] = []  # the one cross collateral asset; "" none; None several
        self.multi: set[int] = set()
        # Σ (weighted PnL - maintenance) of the domain's cross rows at the stored units:
        # the domain is below maintenance iff this + collateral + holdings < 0
        self.surplus: list[int] = []
        self.block: list[slice] = []  # each domain's live cross rows
        self.room: list[int] = []  # each domain's block length (live rows + spare ones)
        # the cross rows, in blocks
        self.mk: list[int] = []  # market number
        self.size: list[int] = []
        self.cash: list[int] = []
        self.cell: list[list[int]] = []
        self.xs: list[int] = []  # weighted PnL - maintenance at the stored unit
        self.abandoned = 0
        self.cols: dict[str, _Market] = {}
        self.by_no: list[_Market] = []
        perp = eng.perp
        for mid in perp.markets:
            self.add_market(mid)
        # each domain's cross rows appended as one block, exactly full (what ``changed`` would
        # write, without a block slice per row); isolated records through ``changed``
        mk, sizes, cashes, cells, xs, surplus = self.mk, self.size, self.cash, self.cell, self.xs, self.surplus
        for aid, recs in perp.domains.items():
            i = self._domain(aid)
            start = len(mk)
            for pos in recs.values():
                if pos.mode != _CROSS:
                    self.changed(pos)
                    continue
                c = self.cols[pos.market_id]
                size, cash = pos.size, pos.cash
                cell = c.move(None, size)
                p = cash + cell[0]
                x = (p * cell[2] // BPS if p > 0 else p) - cell[1]
                c.where[i] = len(mk)
                mk.append(c.no)
                sizes.append(size)
                cashes.append(cash)
                cells.append(cell)
                xs.append(x)
                surplus[i] += x
                self._count(i, c.asset, 1)
            self.block[i] = slice(start, len(mk))
            self.room[i] = len(mk) - start

    # -- maintenance (called by Perp) ----------------------------------------------------------

    def add_market(self, market_id: str) -> None:
        pm = self.eng.perp.markets[market_id]
        c = self.cols[market_id] = _Market(len(self.by_no), pm.tiers, pm.weight_bps, pm.collateral)
        self.by_no.append(c)

    def _domain(self, account: str) -> int:
        i = self.number[account] = len(self.names)
        self.names.append(account)
        acct = self.eng.accounts[account]
        self.accts.append(acct)
        self.frees.append(acct.bal)
        self.assets.append({})
        self.asset.append("")
        self.surplus.append(0)
        self.block.append(slice(0, 0))
        self.room.append(0)
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
        if pos.mode == _CROSS:
            g = c.where.get(i)
            if g is None:
                g = self._add_cross(c, i)
            old = self.size[g]
            if old != size:
                cell = c.cells.get(size)
                if cell is None:
                    cell = c.move(old, size)
                else:  # c.move's common case, inline
                    n = c.n
                    n[old] -= 1
                    n[size] += 1
                self.cell[g] = cell
                self.size[g] = size
            else:
                cell = self.cell[g]
            su, mm, w = cell
            p = cash + su
            x = (p * w // BPS if p > 0 else p) - mm
            xs = self.xs
            self.surplus[i] += x - xs[g]
            xs[g] = x
            self.cash[g] = cash
            return
        r = c.i_row.get(i)
        if r is None:
            r = self._add_isolated(c, i)
        if c.i_size[r] != size:
            c.i_cell[r] = c.move(c.i_size[r], size)
            c.i_size[r] = size
        c.i_cash[r], c.i_margin[r] = cash, pos.margin
        c.i_base[r] = base = pos.margin + cash
        su, mm, _w = c.i_cell[r]
        if base + su < mm:
            c.under.add(i)
        else:
            c.under.discard(i)

    def _cols(self) -> tuple[list[Any], ...]:
        return self.mk, self.size, self.cash, self.cell, self.xs

    def _add_cross(self, c: _Market, i: int) -> int:
        if i in c.i_row:  # the mode changed (only ever with nothing in the record)
            r = c.i_row.pop(i)
            c.n[c.i_size[r]] -= 1
            _pop(c.i_row, r, [c.i_dom, c.i_size, c.i_cash, c.i_margin, c.i_base, c.i_cell], c.i_dom)
            c.under.discard(i)
        b = self.block[i]
        if b.stop - b.start == self.room[i]:
            b = self._move(i)
        g: int = b.stop
        self.block[i] = slice(b.start, g + 1)
        self.mk[g] = c.no
        self.cell[g] = c.move(None, 0)  # size, cash and xs are 0
        c.where[i] = g
        self._count(i, c.asset, 1)
        return g

    def _move(self, i: int) -> slice:
        """Domain ``i``'s block is full: copy it to the end with room for half as many again."""
        b = self.block[i]
        room = self.room[i]
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
        self.room[i] = grown
        moved = self.block[i] = slice(start, start + room)
        return moved

    def compact_if_due(self) -> bool:
        """Compact once abandoned rows are an eighth of the columns; whether it did.

        Not called by commands: a compaction walks every row (about 1 s at W5's size).
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
        for i, (b, room) in enumerate(zip(self.block, self.room, strict=True)):
            start = len(fresh[0])
            for old, new, zero in zip(cols, fresh, _ZEROS, strict=True):
                new.extend(old[b])
                new.extend(repeat(zero, room - (b.stop - b.start)))
            for j, g in enumerate(range(b.start, b.stop)):
                by_no[mk[g]].where[i] = start + j
            self.block[i] = slice(start, start + b.stop - b.start)
        self.mk, self.size, self.cash, self.cell, self.xs = fresh
        self.abandoned = 0

    def _add_isolated(self, c: _Market, i: int) -> int:
        g = c.where.pop(i, None)
        if g is not None:
            self.surplus[i] -= self.xs[g]
            c.n[self.size[g]] -= 1
            b = self.block[i]
            last = b.stop - 1
            cols = self._cols()
            if g != last:
                for col in cols:
                    col[g] = col[last]
                self.by_no[self.mk[g]].where[i] = g
            for col, zero in zip(cols, _ZEROS, strict=True):
                col[last] = zero
            self.block[i] = slice(b.start, last)
            self._count(i, c.asset, -1)
        r = c.i_row[i] = len(c.i_dom)
        c.i_dom.append(i)
        for col in (c.i_size, c.i_cash, c.i_margin, c.i_base):
            col.append(0)
        c.i_cell.append(c.move(None, 0))
        return r

    # -- pricing -----------------------------------------------------------------------------

    def _unit(self, market_id: str, ts: int) -> int:
        eng = self.eng
        m = eng.markets[market_id]
        return (eng.perp.mark(eng.perp.markets[market_id], m, ts) or 0) * m.tick

    def units(self) -> dict[str, int]:
        """Each market's mark x tick at its last pricing."""
        return {mid: c.unit for mid, c in self.cols.items()}

    def sweep(self, ts: int) -> list[tuple[str, str]]:
        """Every market re-priced at ``ts`` (marks moved everywhere); the liquidatable list."""
        return self.reprice({mid: self._unit(mid, ts) for mid in self.cols}, ts)

    def reprice(self, units: dict[str, int], ts: int) -> list[tuple[str, str]]:
        """Every market priced at its given mark x tick; totals computed afresh."""
        for mid, c in self.cols.items():
            c.price(units[mid])
        xs = self.xs = [
            (p * w // BPS if (p := cash + su) > 0 else p) - mm
            for cash, (su, mm, w) in zip(self.cash, self.cell, strict=True)
        ]
        self.surplus = list(map(sum, map(xs.__getitem__, self.block)))
        return self.liquidatable(ts)

    def update_market(self, market_id: str, ts: int) -> list[tuple[str, str]]:
        """Market ``market_id`` re-priced at ``ts`` (its mark moved): only its holders' totals change."""
        c = self.cols[market_id]
        c.price(self._unit(market_id, ts))
        rows = list(c.where.values())
        cells = map(self.cell.__getitem__, rows)
        new = [
            (p * w // BPS if (p := cash + su) > 0 else p) - mm
            for cash, (su, mm, w) in zip(map(self.cash.__getitem__, rows), cells, strict=True)
        ]
        xs = self.xs
        diff = list(map(sub, new, map(xs.__getitem__, rows)))
        deque(map(xs.__setitem__, rows, new), maxlen=0)
        _scatter(self.surplus, list(c.where), diff)
        return self.liquidatable(ts)

    def liquidatable(self, ts: int) -> list[tuple[str, str]]:
        """Domains below maintenance at the stored prices, sorted like ``Perp.under_maintenance``.

        ``ts`` only serves the domains with several collateral assets, priced the engine's way.
        """
        eng = self.eng
        perp = eng.perp
        names, accts, asset = self.names, self.accts, self.asset
        out: list[tuple[str, str]] = []
        # free balances, reservations and holdings are >= 0: only a domain whose surplus plus its
        # free balance is negative needs the rest (one C-level pass over every domain)
        surplus = self.surplus
        free = map(_free_of, self.frees, asset)
        short = compress(range(len(surplus)), map(lt, map(add, surplus, free), repeat(0)))
        weights = perp.weights
        for i in short:
            a = asset[i]
            if not a:  # several assets: below
                continue
            acct = accts[i]
            x = surplus[i] + acct.held(a)
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
        names, size, cash = self.names, self.size, self.cash
        out = {}
        for mid, c in self.cols.items():
            x = {names[d]: (size[g], cash[g]) for d, g in c.where.items()}
            i = {names[d]: (s, ca, g) for d, s, ca, g in zip(c.i_dom, c.i_size, c.i_cash, c.i_margin, strict=True)}
            out[mid] = (x, i)
        return out
