"""Stage C of issue 14: trigger orders (stop-market, stop-limit, TP / SL with OCO) fired by the mark."""

from __future__ import annotations

from typing import Any

from markets.engine import Engine, RejectReason
from markets.engine import commands as C
from markets.engine import events as E
from markets.engine.params import ProtocolParams

from .conftest import ok, rej
from .perp_helpers import USD, perp_spec, perp_totals

M = "BTC-PERP"
SRC = "push:0xoraclekey"
P = ProtocolParams(graduation_min_age_ms=0, graduation_min_bond=0, graduation_min_oi_lots=0, oracle_max_move_bps=5_000)


def of(evs: list[Any], cls: type) -> list[Any]:
    return [e for e in evs if isinstance(e, cls)]


def _setup(params: ProtocolParams = P) -> Engine:
    eng = Engine(params)
    ok(eng, perp_spec())
    ok(eng, C.SetRiskClass(1, M, "cross_eligible"))
    for who in ("alice", "bob", "carol", "mm"):
        ok(eng, C.DepositCredit(1, f"d-{who}", who, USD, 10**6))
    ok(eng, C.PlaceOrder(2, "bob", M, "sell", 1000, 10))
    ok(eng, C.PlaceOrder(2, "alice", M, "buy", 1000, 10, tif="ioc"))
    ok(eng, C.OraclePrice(10, M, 1000, SRC))
    return eng


def _move(eng: Engine, ts: int, price: int) -> None:
    """The book and the oracle move to ``price`` (mm quotes 1 tick either side)."""
    ok(eng, C.CancelAll(ts, "mm"))
    ok(eng, C.PlaceOrder(ts, "mm", M, "buy", price - 1, 50))
    ok(eng, C.PlaceOrder(ts, "mm", M, "sell", price + 1, 50))
    ok(eng, C.OraclePrice(ts, M, price, SRC))


def test_take_profit_fires_and_cancels_its_stop_loss() -> None:
    eng = _setup()
    [sl] = ok(eng, C.PlaceTrigger(11, "alice", M, "stop_loss", 950))
    [tp] = ok(eng, C.PlaceTrigger(11, "alice", M, "take_profit", 1050))
    assert (sl.side, tp.side, tp.oco_id) == ("sell", "sell", sl.trigger_id)
    _move(eng, 2_510, 1040)
    # mark median(1040, 1040, 1000) = 1040: below the target, nothing fires
    assert ok(eng, C.TriggerTick(2_510, M)) == []
    _move(eng, 5_010, 1060)
    evs = ok(eng, C.TriggerTick(5_010, M))
    assert [e.type for e in evs][:3] == ["trigger_cancelled", "trigger_fired", "order_accepted"]
    assert of(evs, E.TriggerCancelled)[0].reason == "oco" and of(evs, E.TriggerFired)[0].mark == 1060
    # the reduce-only market sell closes all 10 lots at the maker's 1059
    assert [(t.price, t.size) for t in of(evs, E.Trade)] == [(1059, 10)]
    assert [(r.account, r.amount) for r in of(evs, E.PnlRealized)] == [("alice", 590)]
    assert eng.perp.triggers == {}
    assert perp_totals(eng) == {USD: 4 * 10**6}


def test_stop_market_and_stop_limit_fire_in_id_order() -> None:
    eng = _setup()
    [a] = ok(eng, C.PlaceTrigger(11, "carol", M, "stop_market", 1100, "buy", size=2))
    [b] = ok(eng, C.PlaceTrigger(11, "carol", M, "stop_limit", 1100, "buy", price=1095, size=3))
    [c] = ok(eng, C.PlaceTrigger(11, "carol", M, "stop_market", 900, "sell", size=1))  # not reached
    _move(eng, 2_510, 1100)
    evs = ok(eng, C.TriggerTick(2_510, M))
    assert [e.trigger_id for e in of(evs, E.TriggerFired)] == [a.trigger_id, b.trigger_id]
    # the stop-market buys 2 at the ask 1101; the stop-limit rests at 1095 (below the ask)
    assert [(t.price, t.size) for t in of(evs, E.Trade)] == [(1101, 2)]
    assert [(o.price, o.qty) for o in eng.open_orders("carol")] == [(1095, 3)]
    assert list(eng.perp.triggers) == [c.trigger_id]


def test_stop_loss_of_a_closed_position_is_dropped_when_it_fires() -> None:
    eng = _setup()
    [sl] = ok(eng, C.PlaceTrigger(11, "alice", M, "stop_loss", 990))
    ok(eng, C.PlaceOrder(12, "bob", M, "buy", 1000, 10))
    ok(eng, C.PlaceOrder(12, "alice", M, "sell", 1000, 10, tif="ioc"))  # alice is flat now
    _move(eng, 2_510, 980)
    evs = ok(eng, C.TriggerTick(2_510, M))
    assert [(e.type, getattr(e, "reason", "")) for e in evs] == [("trigger_fired", ""), ("trigger_cancelled", "flat")]
    assert sl.trigger_id not in eng.perp.triggers


def test_trigger_rejects_and_cancel() -> None:
    eng = _setup()
    assert rej(eng, C.PlaceTrigger(11, "carol", M, "take_profit", 1050)) == RejectReason.REDUCE_ONLY_WOULD_INCREASE
    assert rej(eng, C.PlaceTrigger(11, "alice", M, "trailing", 1050)) == RejectReason.INVALID_FIELD
    assert rej(eng, C.PlaceTrigger(11, "alice", M, "stop_market", 1050, "buy")) == RejectReason.INVALID_SIZE
    assert rej(eng, C.PlaceTrigger(11, "alice", M, "stop_limit", 1050, "buy", size=1)) == RejectReason.INVALID_PRICE
    assert rej(eng, C.PlaceTrigger(11, "alice", M, "stop_loss", 0)) == RejectReason.INVALID_PRICE
    [t] = ok(eng, C.PlaceTrigger(11, "alice", M, "stop_loss", 950))
    assert rej(eng, C.CancelTrigger(12, "bob", t.trigger_id)) == RejectReason.NOT_YOUR_ORDER
    assert rej(eng, C.CancelTrigger(12, "alice", 99)) == RejectReason.UNKNOWN_ORDER
    [ev] = ok(eng, C.CancelTrigger(12, "alice", t.trigger_id))
    assert ev.reason == "user" and eng.perp.triggers == {}


# -- cascades within one tick ---------------------------------------------------------------------


def _cascade(params: ProtocolParams = P) -> tuple[Engine, int, int, int]:
    """mm bids 2 at 999 and 50 at 990, asks 50 at 1001; the mark is median(1000, 1000, 1000) = 1000.
    carol's stop sells 2 at 1000 (reached); bob's at 999 (not yet); carol's third at 900."""
    eng = _setup(params)
    ok(eng, C.PlaceOrder(11, "mm", M, "buy", 999, 2))
    ok(eng, C.PlaceOrder(11, "mm", M, "buy", 990, 50))
    ok(eng, C.PlaceOrder(11, "mm", M, "sell", 1001, 50))
    [a] = ok(eng, C.PlaceTrigger(11, "carol", M, "stop_market", 1000, "sell", size=2))
    [b] = ok(eng, C.PlaceTrigger(11, "bob", M, "stop_market", 999, "sell", size=1))
    [c] = ok(eng, C.PlaceTrigger(11, "carol", M, "stop_market", 900, "sell", size=1))
    return eng, a.trigger_id, b.trigger_id, c.trigger_id


def test_a_fill_that_moves_the_mark_fires_the_next_trigger_in_the_same_tick() -> None:
    eng, a, b, c = _cascade()
    assert P.max_trigger_rounds == 5
    evs = ok(eng, C.TriggerTick(12, M))
    # round 1, mark 1000: carol's stop sells 2 at the 999 bid. The mid falls to (990 + 1001) // 2 = 995
    # and the trade average to (1000 + 999) // 2 = 999, so the mark is median(1000, 995, 999) = 999.
    # round 2, mark 999: bob's stop sells 1 at 990; the mark becomes median(1000, 995, 996) = 996.
    # round 3, mark 996: nothing more is reached (carol's last stop is at 900), the tick ends.
    assert [(e.trigger_id, e.mark) for e in of(evs, E.TriggerFired)] == [(a, 1000), (b, 999)]
    assert [(t.taker_account, t.price, t.size, t.maker_account) for t in of(evs, E.Trade)] == [
        ("carol", 999, 2, "mm"),
        ("bob", 990, 1, "mm"),
    ]
    assert list(eng.perp.triggers) == [c]
    assert eng.perp.mark(eng.perp.markets[M], eng.markets[M], 12) == 996
    assert of(evs, E.TriggersPending) == []  # the third round fired nothing: the cascade ended
    assert perp_totals(eng) == {USD: 4 * 10**6}


def test_the_rounds_are_bounded_and_the_next_tick_goes_on() -> None:
    eng, a, b, _ = _cascade(ProtocolParams(graduation_min_age_ms=0, graduation_min_bond=0, max_trigger_rounds=1))
    evs = ok(eng, C.TriggerTick(12, M))
    assert [(e.trigger_id, e.mark) for e in of(evs, E.TriggerFired)] == [(a, 1000)]
    # the one round is used up and the new mark 999 reaches bob's stop: the tick says so, last
    assert [(e.market_id, e.mark, e.rounds) for e in of(evs, E.TriggersPending)] == [(M, 999, 1)]
    assert evs[-1].type == "triggers_pending"
    evs = ok(eng, C.TriggerTick(12, M))
    assert [(e.trigger_id, e.mark) for e in of(evs, E.TriggerFired)] == [(b, 999)]
    assert [(t.price, t.size) for t in of(evs, E.Trade)] == [(990, 1)]
    # mark 996 reaches nothing more (carol's last stop is at 900): nothing pending
    assert of(evs, E.TriggersPending) == []
