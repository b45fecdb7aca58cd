"""Liquidation sweeps: every margin domain's maintenance health, priced market by market.

``MarginIndex`` is derived, read-only data over an Engine at one ``ts``. It copies the perp
positions once into per-market columns (domain number, size, |size|, cash, and for isolated
positions their margin) and keeps, per domain, its cross equity and maintenance, and per
market each position's contribution to them. Pricing a market is then a few list passes
with the market's notional per lot and its tier lookups computed once (maintenance memoised
per |size|):

- ``sweep()``: every market re-priced (after marks moved everywhere);
- ``update_market(m)``: only market ``m`` re-priced; its holders' domain totals move by the
  difference between the new and the old contribution.

The integers are exactly ``Perp.cross_margin`` / ``Perp.isolated_margin``'s (tests check the
result against ``Perp.under_maintenance``). The columns are a copy: after a command that
changes positions or balances, build the index again; only marks may move in between. A
domain with cross positions in several collateral assets takes the engine's own path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .margin import BPS, MarginTier

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["MarginIndex"]


def _mm(tiers: list[MarginTier], notional: int) -> int:
    for cap, _im, mm in tiers:
        if cap == 0 or notional <= cap:
            return -((-notional * mm) // BPS)
    return 0  # pragma: no cover - the last cap is 0


class _Cols:
    """One market's positions as columns: cross ones and isolated ones apart."""

    __slots__ = ("x_dom", "x_size", "x_abs", "x_cash", "i_dom", "i_size", "i_abs", "i_cash", "i_margin")

    def __init__(self) -> None:
        self.x_dom: list[int] = []
        self.x_size: list[int] = []
        self.x_abs: list[int] = []
        self.x_cash: list[int] = []
        self.i_dom: list[int] = []
        self.i_size: list[int] = []
        self.i_abs: list[int] = []
        self.i_cash: list[int] = []
        self.i_margin: list[int] = []


class MarginIndex:
    """Maintenance health of every domain; ``liquidatable()`` equals ``Perp.under_maintenance``."""

    def __init__(self, eng: Engine, ts: int) -> None:
        self.eng = eng
        self.ts = ts
        perp = eng.perp
        self.names: list[str] = []
        number: dict[str, int] = {}
        self.multi: set[str] = set()
        self.cols: dict[str, _Cols] = {}
        asset_of: dict[int, str] = {}
        for aid, recs in perp.domains.items():
            number[aid] = len(self.names)
            self.names.append(aid)
            assets = {perp.markets[mid].collateral for mid, p in recs.items() if p.mode == "cross"}
            if len(assets) > 1:
                self.multi.add(aid)
            elif assets:
                asset_of[number[aid]] = assets.pop()
        for mid, pm in perp.markets.items():
            cols = self.cols[mid] = _Cols()
            for aid, pos in pm.holders.items():
                size = pos.size
                if pos.mode == "cross":
                    if aid in self.multi:
                        continue
                    cols.x_dom.append(number[aid])
                    cols.x_size.append(size)
                    cols.x_abs.append(size if size >= 0 else -size)
                    cols.x_cash.append(pos.cash)
                elif size or pos.cash or pos.margin:
                    cols.i_dom.append(number[aid])
                    cols.i_size.append(size)
                    cols.i_abs.append(size if size >= 0 else -size)
                    cols.i_cash.append(pos.cash)
                    cols.i_margin.append(pos.margin)
        n = len(self.names)
        self.has_cross = [i in asset_of for i in range(n)]
        self.base = [0] * n  # collateral (free + reserved + weighted holdings) of cross domains
        for i, asset in asset_of.items():
            acct = eng.accounts[self.names[i]]
            self.base[i] = acct.free.get(asset, 0) + acct.reserved.get(asset, 0)
            if perp.weights:
                self.base[i] += perp.holdings_value(eng, acct, asset)
        # the same cross positions once more, grouped by domain, for the full sweep
        market_no = {mid: k for k, mid in enumerate(self.cols)}
        self.g_mkt: list[int] = []
        self.g_size: list[int] = []
        self.g_abs: list[int] = []
        self.g_cash: list[int] = []
        self.g_weight: list[int] = []
        self.g_bounds: list[int] = [0]
        for aid, recs in perp.domains.items():
            if aid not in self.multi:
                for mid, pos in recs.items():
                    if pos.mode == "cross":
                        self.g_mkt.append(market_no[mid])
                        self.g_size.append(pos.size)
                        self.g_abs.append(abs(pos.size))
                        self.g_cash.append(pos.cash)
                        self.g_weight.append(perp.markets[mid].weight_bps)
            self.g_bounds.append(len(self.g_mkt))
        self.units: dict[str, int] = {mid: 0 for mid in self.cols}
        self.eq = list(self.base)
        self.mm = [0] * n
        self.iso_under: dict[str, set[int]] = {mid: set() for mid in self.cols}
        self.sweep()

    def _unit(self, mid: str) -> int:
        eng = self.eng
        m = eng.markets[mid]
        return (eng.perp.mark(eng.perp.markets[mid], m, self.ts) or 0) * m.tick

    def _isolated(self, mid: str, unit: int, cache: dict[int, int]) -> None:
        cols = self.cols[mid]
        self.iso_under[mid] = {
            i
            for i, s, c, g, a in zip(cols.i_dom, cols.i_size, cols.i_cash, cols.i_margin, cols.i_abs, strict=True)
            if g + c + s * unit < cache[a]
        }

    def sweep(self) -> list[tuple[str, str]]:
        """Every market re-priced (marks moved everywhere); the liquidatable list.

        All cross positions, grouped by domain, are priced in a few whole-list passes; each
        domain's totals are then sums over its slice.
        """
        tiers = [self.eng.perp.markets[mid].tiers for mid in self.cols]
        units = [self._unit(mid) for mid in self.cols]
        caches = []
        for k, mid in enumerate(self.cols):
            cols = self.cols[mid]
            cache = {a: _mm(tiers[k], a * units[k]) for a in set(cols.x_abs) | set(cols.i_abs)}
            caches.append(cache)
            self.units[mid] = units[k]
            self._isolated(mid, units[k], cache)
        pnl = [c + s * units[k] for c, s, k in zip(self.g_cash, self.g_size, self.g_mkt, strict=True)]
        w = [p * wt // BPS if p > 0 else p for p, wt in zip(pnl, self.g_weight, strict=True)]
        mm = [caches[k][a] for k, a in zip(self.g_mkt, self.g_abs, strict=True)]
        b = self.g_bounds
        self.eq = [base + sum(w[b[i] : b[i + 1]]) for i, base in enumerate(self.base)]
        self.mm = [sum(mm[b[i] : b[i + 1]]) for i in range(len(self.base))]
        return self.liquidatable()

    def update_market(self, market_id: str) -> list[tuple[str, str]]:
        """One market re-priced (its mark moved): only its holders' totals change."""
        pm = self.eng.perp.markets[market_id]
        old, unit = self.units[market_id], self._unit(market_id)
        self.units[market_id] = unit
        cols = self.cols[market_id]
        tiers, weight = pm.tiers, pm.weight_bps
        abs_all = set(cols.x_abs) | set(cols.i_abs)
        cache = {a: _mm(tiers, a * unit) for a in abs_all}
        old_cache = {a: _mm(tiers, a * old) for a in set(cols.x_abs)}
        eq, mm = self.eq, self.mm
        for i, s, c, a in zip(cols.x_dom, cols.x_size, cols.x_cash, cols.x_abs, strict=True):
            p, q = c + s * unit, c + s * old
            eq[i] += (p * weight // BPS if p > 0 else p) - (q * weight // BPS if q > 0 else q)
            mm[i] += cache[a] - old_cache[a]
        self._isolated(market_id, unit, cache)
        return self.liquidatable()

    def liquidatable(self) -> list[tuple[str, str]]:
        names = self.names
        out = [
            (names[i], "")
            for i, (e, r, x) in enumerate(zip(self.eq, self.mm, self.has_cross, strict=True))
            if x and e < r
        ]
        for mid, under in self.iso_under.items():
            out += [(names[i], mid) for i in under]
        eng = self.eng
        for aid in self.multi:
            perp = eng.perp
            assets = {perp.markets[mid].collateral for mid, p in perp.domains[aid].items() if p.mode == "cross"}
            if any(
                perp.cross_margin(eng, aid, a, self.ts)[0] < perp.cross_margin(eng, aid, a, self.ts)[2] for a in assets
            ):
                out.append((aid, ""))
        return sorted(out)
