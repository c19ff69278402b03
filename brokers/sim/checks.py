"""The trade server's checks: the retcode MT5 answers for each kind of mistake in a request.

Each check raises `Reject(retcode, detail)`; the detail names the field and the rule, e.g.
`Reject(10014, "volume 0.015 is not a multiple of volume_step 0.01")`. Prices are compared in
whole points (`trade_stops_level`, `trade_freeze_level` and deviation are in points).
"""

from __future__ import annotations

from decimal import Decimal

from brokers.mt5 import constants as mt5
from brokers.mt5.records import SymbolInfo
from brokers.sim.matching import LIMIT_TYPES, STOP_LIMIT_TYPES, is_buy
from model.tick import Tick

SYMBOL_FILLING_FOK = 1
SYMBOL_FILLING_IOC = 2
EXPIRATION_FLAGS = {
    mt5.ORDER_TIME_GTC: 1,
    mt5.ORDER_TIME_DAY: 2,
    mt5.ORDER_TIME_SPECIFIED: 4,
    mt5.ORDER_TIME_SPECIFIED_DAY: 8,
}


class Reject(Exception):
    """The server refuses the request with `retcode`; `detail` says which field broke which rule."""

    def __init__(self, retcode: int, detail: str) -> None:
        super().__init__(f"{retcode}: {detail}")
        self.retcode = retcode
        self.detail = detail


def points(info: SymbolInfo, distance: float) -> int:
    return round(distance / info.point)


def volume(info: SymbolInfo, lots: float) -> None:
    """10014 unless volume_min <= lots <= volume_max and lots is a multiple of volume_step."""
    v, step = Decimal(str(lots)), Decimal(str(info.volume_step))
    low, high = Decimal(str(info.volume_min)), Decimal(str(info.volume_max))
    if not low <= v <= high:
        raise Reject(
            mt5.TRADE_RETCODE_INVALID_VOLUME,
            f"volume {lots} is outside volume_min {info.volume_min}..volume_max {info.volume_max}",
        )
    if step > 0 and v % step != 0:
        raise Reject(
            mt5.TRADE_RETCODE_INVALID_VOLUME,
            f"volume {lots} is not a multiple of volume_step {info.volume_step}",
        )


def on_tick_size(info: SymbolInfo, price: float) -> bool:
    steps = price / info.trade_tick_size
    return abs(steps - round(steps)) < 1e-6


def filling(info: SymbolInfo, order_type: int, type_filling: int, pending: bool) -> None:
    """10030 when the symbol does not allow this filling type for this kind of order.

    FOK and IOC need their SYMBOL_FILLING_MODE bit. RETURN is allowed for pending orders, for
    instant/request execution (MT5 fills those as FOK) and for exchange execution, never for
    market execution. BOC is for limit orders under exchange execution only.
    """
    fok = bool(info.filling_mode & SYMBOL_FILLING_FOK)
    ioc = bool(info.filling_mode & SYMBOL_FILLING_IOC)
    exemode = info.trade_exemode
    instant = not pending and exemode <= mt5.SYMBOL_TRADE_EXECUTION_INSTANT
    allowed = {
        mt5.ORDER_FILLING_FOK: fok or instant,
        mt5.ORDER_FILLING_IOC: ioc,
        mt5.ORDER_FILLING_RETURN: pending or exemode != mt5.SYMBOL_TRADE_EXECUTION_MARKET,
        mt5.ORDER_FILLING_BOC: pending
        and order_type in LIMIT_TYPES | STOP_LIMIT_TYPES
        and exemode == mt5.SYMBOL_TRADE_EXECUTION_EXCHANGE,
    }
    if not allowed.get(type_filling, False):
        raise Reject(
            mt5.TRADE_RETCODE_INVALID_FILL,
            f"type_filling {type_filling} is not allowed for {info.name} "
            f"(filling_mode {info.filling_mode}, trade_exemode {exemode})",
        )


def stops(info: SymbolInfo, buy: bool, reference: float, sl: float, tp: float) -> None:
    """10016 unless SL and TP are on the losing/winning side of `reference`, far enough.

    `reference` is where the position would close now (bid for a buy, ask for a sell), or the
    entry price of a pending order. The distance must be at least trade_stops_level points
    (and more than zero).
    """
    need = max(info.trade_stops_level, 1)
    for name, level, below in (("sl", sl, buy), ("tp", tp, not buy)):
        if level <= 0:
            continue
        if not on_tick_size(info, level):
            raise Reject(
                mt5.TRADE_RETCODE_INVALID_STOPS,
                f"{name} {level} is not a multiple of trade_tick_size {info.trade_tick_size}",
            )
        distance = points(info, reference - level if below else level - reference)
        if distance < need:
            side = "below" if below else "above"
            raise Reject(
                mt5.TRADE_RETCODE_INVALID_STOPS,
                f"{name} {level} must be at least {need} points {side} {reference}",
            )


def pending_price(info: SymbolInfo, order_type: int, price: float, tick: Tick) -> None:
    """10015 unless a pending order's price is on tick size and on the right side of the market.

    Limits rest below the ask (buy) or above the bid (sell); stops above the ask (buy) or
    below the bid (sell); at least trade_stops_level points (and more than zero) away.
    """
    if price <= 0 or not on_tick_size(info, price):
        raise Reject(
            mt5.TRADE_RETCODE_INVALID_PRICE,
            f"price {price} must be positive and a multiple of trade_tick_size "
            f"{info.trade_tick_size}",
        )
    buy = is_buy(order_type)
    market = tick.ask if buy else tick.bid
    below = (order_type in LIMIT_TYPES) == buy
    distance = points(info, market - price if below else price - market)
    need = max(info.trade_stops_level, 1)
    if distance < need:
        side = "below" if below else "above"
        raise Reject(
            mt5.TRADE_RETCODE_INVALID_PRICE,
            f"price {price} must be at least {need} points {side} the {'ask' if buy else 'bid'} "
            f"{market} for order type {order_type}",
        )


def stoplimit_price(info: SymbolInfo, order_type: int, price: float, stoplimit: float) -> None:
    """10015 unless a stop-limit's limit price is on tick size and on the limit side of its stop."""
    buy = is_buy(order_type)
    if stoplimit <= 0 or not on_tick_size(info, stoplimit):
        raise Reject(
            mt5.TRADE_RETCODE_INVALID_PRICE,
            f"stoplimit {stoplimit} must be positive and a multiple of trade_tick_size",
        )
    if (stoplimit >= price) if buy else (stoplimit <= price):
        side = "below" if buy else "above"
        raise Reject(
            mt5.TRADE_RETCODE_INVALID_PRICE, f"stoplimit {stoplimit} must be {side} price {price}"
        )


def frozen(info: SymbolInfo, distances: list[float], what: str) -> None:
    """10029 when any of `distances` to the market is within trade_freeze_level points."""
    level = info.trade_freeze_level
    if level > 0 and any(points(info, abs(d)) <= level for d in distances):
        raise Reject(
            mt5.TRADE_RETCODE_FROZEN,
            f"{what} is within trade_freeze_level {level} points of the market",
        )


def expiration(info: SymbolInfo, type_time: int, expires: int, now: int) -> None:
    """10022 unless the symbol allows this type_time and a specified expiration is in the future."""
    flag = EXPIRATION_FLAGS.get(type_time)
    if flag is None or not info.expiration_mode & flag:
        raise Reject(
            mt5.TRADE_RETCODE_INVALID_EXPIRATION,
            f"type_time {type_time} is not allowed for {info.name} "
            f"(expiration_mode {info.expiration_mode})",
        )
    specified = type_time in (mt5.ORDER_TIME_SPECIFIED, mt5.ORDER_TIME_SPECIFIED_DAY)
    if specified and expires <= now:
        raise Reject(
            mt5.TRADE_RETCODE_INVALID_EXPIRATION,
            f"expiration {expires} must be later than the server time {now}",
        )


def deviation(info: SymbolInfo, requested: float, market: float, allowed: int) -> None:
    """10004 (requote): under instant/request execution the price moved beyond `allowed` points."""
    if info.trade_exemode > mt5.SYMBOL_TRADE_EXECUTION_INSTANT or requested <= 0:
        return
    if points(info, abs(market - requested)) > allowed:
        raise Reject(
            mt5.TRADE_RETCODE_REQUOTE,
            f"price {requested} is more than deviation {allowed} points from {market}",
        )
