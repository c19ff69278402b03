"""When a tick fills a pending order or closes a position at its SL/TP: pure functions of prices.

MT5's rules: buys open at the ask and close at the bid, sells the reverse. A buy limit triggers
when ask <= price, a buy stop when ask >= price, a sell limit when bid >= price, a sell stop when
bid <= price; a stop-limit triggers like a stop and then rests as a limit at its stoplimit price.
A buy position's SL hits when bid <= sl, its TP when bid >= tp; a sell's SL when ask >= sl, its
TP when ask <= tp. `Levels` folds these into four thresholds per symbol so the tick path can
skip an account with one comparison each.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from brokers.mt5 import constants as mt5
from brokers.mt5.records import TradeOrder, TradePosition
from model.tick import Tick

BUY_TYPES = frozenset(
    {
        mt5.ORDER_TYPE_BUY,
        mt5.ORDER_TYPE_BUY_LIMIT,
        mt5.ORDER_TYPE_BUY_STOP,
        mt5.ORDER_TYPE_BUY_STOP_LIMIT,
    }
)
LIMIT_TYPES = frozenset({mt5.ORDER_TYPE_BUY_LIMIT, mt5.ORDER_TYPE_SELL_LIMIT})
STOP_LIMIT_TYPES = frozenset({mt5.ORDER_TYPE_BUY_STOP_LIMIT, mt5.ORDER_TYPE_SELL_STOP_LIMIT})
PENDING_TYPES = frozenset(range(mt5.ORDER_TYPE_BUY_LIMIT, mt5.ORDER_TYPE_SELL_STOP_LIMIT + 1))


def is_buy(order_type: int) -> bool:
    return order_type in BUY_TYPES


def fill_price(buy: bool, tick: Tick, digits: int | None = None) -> float:
    """Where a market deal fills: the ask for a buy, the bid for a sell (on the symbol's
    `digits` when given: a feed's off-grid quote never becomes an off-grid fill)."""
    price = tick.ask if buy else tick.bid
    return price if digits is None else round(price, digits)


def close_price(position_type: int, tick: Tick, digits: int | None = None) -> float:
    """Where a position closes: a buy at the bid, a sell at the ask (on `digits` if given)."""
    return fill_price(position_type != mt5.POSITION_TYPE_BUY, tick, digits)


def pending_triggered(order_type: int, price: float, tick: Tick) -> bool:
    """Does `tick` trigger a pending order of `order_type` at `price`?"""
    if order_type == mt5.ORDER_TYPE_BUY_LIMIT:
        return tick.ask <= price
    if order_type == mt5.ORDER_TYPE_SELL_LIMIT:
        return tick.bid >= price
    if order_type in (mt5.ORDER_TYPE_BUY_STOP, mt5.ORDER_TYPE_BUY_STOP_LIMIT):
        return tick.ask >= price
    if order_type in (mt5.ORDER_TYPE_SELL_STOP, mt5.ORDER_TYPE_SELL_STOP_LIMIT):
        return tick.bid <= price
    raise ValueError(f"order type {order_type} is not a pending order type")


def stop_hit(position: TradePosition, tick: Tick) -> int | None:
    """DEAL_REASON_SL or DEAL_REASON_TP when `tick` reaches the position's SL or TP, else None."""
    price = close_price(position.type, tick)
    buy = position.type == mt5.POSITION_TYPE_BUY
    if position.sl > 0 and (price <= position.sl if buy else price >= position.sl):
        return mt5.DEAL_REASON_SL
    if position.tp > 0 and (price >= position.tp if buy else price <= position.tp):
        return mt5.DEAL_REASON_TP
    return None


class Levels(NamedTuple):
    """Thresholds of one symbol: a tick matters when bid <= bid_le, bid >= bid_ge, and so on."""

    bid_le: float | None = None
    bid_ge: float | None = None
    ask_le: float | None = None
    ask_ge: float | None = None
    expire_at: float | None = None


def _max(a: float | None, b: float) -> float:
    return b if a is None else max(a, b)


def _min(a: float | None, b: float) -> float:
    return b if a is None else min(a, b)


def levels(positions: Iterable[TradePosition], orders: Iterable[TradeOrder]) -> Levels:
    """The thresholds of these positions and pending orders (all of one symbol)."""
    bid_le = bid_ge = ask_le = ask_ge = None
    expire_at: float | None = None
    for p in positions:
        if p.type == mt5.POSITION_TYPE_BUY:
            if p.sl > 0:
                bid_le = _max(bid_le, p.sl)
            if p.tp > 0:
                bid_ge = _min(bid_ge, p.tp)
        else:
            if p.sl > 0:
                ask_ge = _min(ask_ge, p.sl)
            if p.tp > 0:
                ask_le = _max(ask_le, p.tp)
    for o in orders:
        if o.type_time != mt5.ORDER_TIME_GTC and o.time_expiration > 0:
            expire_at = _min(expire_at, o.time_expiration)
        if o.type == mt5.ORDER_TYPE_BUY_LIMIT:
            ask_le = _max(ask_le, o.price_open)
        elif o.type == mt5.ORDER_TYPE_SELL_LIMIT:
            bid_ge = _min(bid_ge, o.price_open)
        elif is_buy(o.type):
            ask_ge = _min(ask_ge, o.price_open)
        else:
            bid_le = _max(bid_le, o.price_open)
    return Levels(bid_le, bid_ge, ask_le, ask_ge, expire_at)


def crossed(lv: Levels, tick: Tick, now: float) -> bool:
    """Could this tick (at wall-clock `now`) fill, close or expire anything behind `lv`?"""
    return (
        (lv.bid_le is not None and tick.bid <= lv.bid_le)
        or (lv.bid_ge is not None and tick.bid >= lv.bid_ge)
        or (lv.ask_le is not None and tick.ask <= lv.ask_le)
        or (lv.ask_ge is not None and tick.ask >= lv.ask_ge)
        or (lv.expire_at is not None and now >= lv.expire_at)
    )
