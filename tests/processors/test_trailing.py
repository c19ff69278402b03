"""Trailing-stop and break-even rules on real EURUSD/XAUUSD prices and symbol specs."""

from __future__ import annotations

from typing import Any

from brokers.mt5 import constants as mt5
from brokers.mt5.records import SymbolInfo, TradePosition
from brokers.sim.symbols import default_symbols
from model import OrderStatus, TrailingStop
from model.tick import Tick
from processors.trailing import SlMove, next_sl, sl_result


def info(symbol: str, **changes: Any) -> SymbolInfo:
    spec = default_symbols().get(symbol)
    assert spec is not None
    return spec._replace(**changes)


def position(kind: int, price_open: float, sl: float = 0.0, tp: float = 0.0) -> TradePosition:
    return TradePosition(
        ticket=7, time=0, time_msc=0, time_update=0, time_update_msc=0, type=kind, magic=1,
        identifier=7, reason=3, volume=0.1, price_open=price_open, sl=sl, tp=tp,
        price_current=price_open, swap=0.0, profit=0.0, symbol="EURUSD", comment="",
        external_id="",
    )  # fmt: skip


# OANDA EURUSD 2014-05-06 00:00:00.158 and a tick 25 points higher later that night
OPEN = Tick(time=1399334400, bid=1.38742, ask=1.38755, time_msc=1399334400158)
UP = Tick(time=1399336000, bid=1.38780, ask=1.38793, time_msc=1399336000000)
BUY = position(mt5.POSITION_TYPE_BUY, OPEN.ask)
TRAIL = TrailingStop(enabled=True, distance=20, step=5)


def test_disabled_or_not_yet_in_profit_means_no_move() -> None:
    assert next_sl(BUY, UP, info("EURUSD"), TrailingStop(distance=20)) is None
    assert next_sl(BUY, OPEN, info("EURUSD"), TRAIL) is None


def test_a_buy_trails_the_bid_at_the_distance() -> None:
    move = next_sl(BUY, UP, info("EURUSD"), TRAIL)
    # profit 1.38780 - 1.38755 = 25 points >= 20: SL 20 points under the bid
    assert move == SlMove(7, "EURUSD", 0.0, 1.3876, 0.0, "trailing", UP.time_msc)


def test_the_sl_moves_only_forward_and_by_the_step() -> None:
    assert next_sl(position(0, OPEN.ask, sl=1.38757), UP, info("EURUSD"), TRAIL) is None  # +3
    assert next_sl(position(0, OPEN.ask, sl=1.38770), UP, info("EURUSD"), TRAIL) is None  # back
    moved = next_sl(position(0, OPEN.ask, sl=1.38755), UP, info("EURUSD"), TRAIL)
    assert moved is not None and moved.sl == 1.3876  # +5 = step


def test_a_sell_trails_the_ask() -> None:
    sell = position(mt5.POSITION_TYPE_SELL, UP.bid)
    down = OPEN  # the ask fell from 1.38793 to 1.38755: 25 points of profit on a sell at 1.38780
    move = next_sl(sell, down, info("EURUSD"), TRAIL)
    assert move is not None and move.sl == 1.38775


def test_activation_waits_for_more_profit_than_the_distance() -> None:
    late = TrailingStop(enabled=True, distance=20, activation=30)
    assert next_sl(BUY, UP, info("EURUSD"), late) is None


def test_break_even_puts_the_sl_past_the_entry() -> None:
    rule = TrailingStop(enabled=True, breakeven_trigger=25, breakeven_offset=3)
    move = next_sl(BUY, UP, info("EURUSD"), rule)
    assert move is not None and (move.sl, move.reason) == (1.38758, "breakeven")
    # with trailing too, the better of the two wins
    both = next_sl(BUY, UP, info("EURUSD"), rule.model_copy(update={"distance": 10}))
    assert both is not None and (both.sl, both.reason) == (1.3877, "trailing")


def test_stops_and_freeze_levels_hold_a_move_back_as_mt5_would_refuse_it() -> None:
    assert next_sl(BUY, UP, info("EURUSD", trade_stops_level=21), TRAIL) is None
    frozen = position(mt5.POSITION_TYPE_BUY, OPEN.ask, sl=1.38750, tp=1.38785)
    assert next_sl(frozen, UP, info("EURUSD", trade_freeze_level=5), TRAIL) is None


def test_gold_is_trailed_in_its_own_points() -> None:
    gold = position(mt5.POSITION_TYPE_BUY, 1290.606)._replace(symbol="XAUUSD")
    later = Tick(time=1399847487, bid=1291.000, ask=1291.500, time_msc=1399847487367)
    move = next_sl(gold, later, info("XAUUSD"), TrailingStop(enabled=True, distance=200))
    assert move is not None and move.sl == 1290.8  # 394 points of profit, SL 200 under the bid


def test_a_move_is_one_result_whatever_tick_replays_it() -> None:
    move = SlMove(7, "EURUSD", 0.0, 1.3876, 0.0, "trailing", UP.time_msc)
    first, again = sl_result("demo-1", move), sl_result("demo-1", move._replace(time_msc=1))
    assert first.result_id == again.result_id == "sl:demo-1:7:1.3876"
    assert (first.status, first.position_ticket, str(first.price)) == (
        OrderStatus.MODIFIED, 7, "1.3876",
    )  # fmt: skip
