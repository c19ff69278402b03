"""Trigger rules of pending orders and SL/TP, and the per-symbol levels of the tick path."""

from __future__ import annotations

import pytest

from brokers.mt5 import constants as mt5
from brokers.mt5.records import TradeOrder, TradePosition
from brokers.sim.matching import Levels, crossed, levels, pending_triggered, stop_hit
from model.tick import Tick

TICK = Tick(time=0, bid=1.10000, ask=1.10010)


def position(kind: int, sl: float = 0.0, tp: float = 0.0) -> TradePosition:
    return TradePosition(1, 0, 0, 0, 0, kind, 0, 1, 3, 0.1, 1.1, sl, tp, 1.1, 0.0, 0.0, "X", "", "")


def order(kind: int, price: float, expires: int = 0) -> TradeOrder:
    type_time = mt5.ORDER_TIME_SPECIFIED if expires else mt5.ORDER_TIME_GTC
    return TradeOrder(
        2, 0, 0, 0, 0, expires, kind, type_time, 2, 1, 0, 0, 0, 3, 0.1, 0.1, price, 0.0, 0.0,
        price, 0.0, "X", "", "",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "price", "fires"),
    [
        (mt5.ORDER_TYPE_BUY_LIMIT, 1.10010, True),  # ask <= price
        (mt5.ORDER_TYPE_BUY_LIMIT, 1.10009, False),
        (mt5.ORDER_TYPE_SELL_LIMIT, 1.10000, True),  # bid >= price
        (mt5.ORDER_TYPE_SELL_LIMIT, 1.10001, False),
        (mt5.ORDER_TYPE_BUY_STOP, 1.10010, True),  # ask >= price
        (mt5.ORDER_TYPE_BUY_STOP, 1.10011, False),
        (mt5.ORDER_TYPE_SELL_STOP, 1.10000, True),  # bid <= price
        (mt5.ORDER_TYPE_SELL_STOP, 1.09999, False),
        (mt5.ORDER_TYPE_BUY_STOP_LIMIT, 1.10010, True),
        (mt5.ORDER_TYPE_SELL_STOP_LIMIT, 1.09999, False),
    ],
)
def test_pending_triggers(kind: int, price: float, fires: bool) -> None:
    assert pending_triggered(kind, price, TICK) is fires


def test_a_market_type_is_not_pending() -> None:
    with pytest.raises(ValueError, match="not a pending order type"):
        pending_triggered(mt5.ORDER_TYPE_BUY, 1.1, TICK)


def test_stops_close_buys_on_the_bid_and_sells_on_the_ask() -> None:
    buy, sell = mt5.POSITION_TYPE_BUY, mt5.POSITION_TYPE_SELL
    assert stop_hit(position(buy, sl=1.10000), TICK) == mt5.DEAL_REASON_SL
    assert stop_hit(position(buy, sl=1.09999), TICK) is None
    assert stop_hit(position(buy, tp=1.10000), TICK) == mt5.DEAL_REASON_TP
    assert stop_hit(position(buy, tp=1.10010), TICK) is None  # the ask does not count
    assert stop_hit(position(sell, sl=1.10010), TICK) == mt5.DEAL_REASON_SL
    assert stop_hit(position(sell, tp=1.10010), TICK) == mt5.DEAL_REASON_TP
    assert stop_hit(position(sell, tp=1.10000), TICK) is None
    assert stop_hit(position(buy), TICK) is None


def test_levels_fold_every_threshold_of_a_symbol() -> None:
    lv = levels(
        [position(mt5.POSITION_TYPE_BUY, sl=1.09, tp=1.12), position(mt5.POSITION_TYPE_SELL, 1.11)],
        [order(mt5.ORDER_TYPE_BUY_LIMIT, 1.095, expires=500), order(mt5.ORDER_TYPE_SELL_STOP, 1.0)],
    )
    assert lv == Levels(bid_le=1.09, bid_ge=1.12, ask_le=1.095, ask_ge=1.11, expire_at=500)
    assert not crossed(lv, TICK, now=100)
    assert crossed(lv, TICK, now=500)
    assert crossed(lv, Tick(0, 1.0899, 1.09), now=0)
    assert crossed(lv, Tick(0, 1.1, 1.11), now=0)
    assert not crossed(Levels(), TICK, now=10**10)
