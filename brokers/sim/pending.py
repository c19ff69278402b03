"""Pending orders on the trade server: the PENDING, MODIFY and REMOVE trade actions.

A pending order rests in the account's orders until a tick triggers it (`triggers.py`), it
expires, or it is removed. Its SL/TP are checked against its own entry price (the stoplimit
price for stop-limits); `type_time` DAY and SPECIFIED_DAY expire at the next UTC midnight after
placement or after `expiration`, SPECIFIED at `expiration`.
"""

from __future__ import annotations

from brokers.mt5 import constants as mt5
from brokers.mt5.records import SymbolInfo, TradeOrder, TradeRequest
from brokers.sim import checks
from brokers.sim.book import Book
from brokers.sim.booking import Execution
from brokers.sim.checks import Reject
from brokers.sim.guards import market_tick, symbol_info, trade_mode
from brokers.sim.matching import PENDING_TYPES, STOP_LIMIT_TYPES, is_buy
from model.tick import Tick

DAY = 86_400


def expires_at(type_time: int, expiration: int, now: int) -> int:
    """The moment an order of this type_time stops being valid (0: never)."""
    if type_time == mt5.ORDER_TIME_DAY:
        return (now // DAY + 1) * DAY
    if type_time == mt5.ORDER_TIME_SPECIFIED_DAY:
        return (expiration // DAY + 1) * DAY
    if type_time == mt5.ORDER_TIME_SPECIFIED:
        return expiration
    return 0


def _order(book: Book, ticket: int) -> TradeOrder:
    order = book.orders.get(ticket)
    if order is None:
        raise Reject(mt5.TRADE_RETCODE_INVALID, f"order {ticket} is not a pending order here")
    return order


def _check_levels(
    info: SymbolInfo, tick: Tick, order_type: int, req: TradeRequest, now: int
) -> None:
    """Price, stoplimit, SL/TP and expiration of a new or modified pending order."""
    checks.expiration(info, req.type_time, req.expiration, now)
    checks.pending_price(info, order_type, req.price, tick)
    entry = req.price
    if order_type in STOP_LIMIT_TYPES:
        checks.stoplimit_price(info, order_type, req.price, req.stoplimit)
        entry = req.stoplimit
    checks.stops(info, is_buy(order_type), entry, req.sl, req.tp)


def _market_distance(order: TradeOrder, tick: Tick) -> float:
    return (tick.ask if is_buy(order.type) else tick.bid) - order.price_open


def place(book: Book, req: TradeRequest, now_ms: int) -> Execution:
    """TRADE_ACTION_PENDING: a limit, stop or stop-limit order, answered 10008 PLACED."""
    info = symbol_info(book, req.symbol)
    if req.type not in PENDING_TYPES:
        raise Reject(mt5.TRADE_RETCODE_INVALID_ORDER, f"type {req.type} is not a pending order")
    tick = market_tick(book, info)
    trade_mode(info, is_buy(req.type))
    checks.volume(info, req.volume)
    checks.filling(info, req.type, req.type_filling, pending=True)
    now = now_ms // 1000
    _check_levels(info, tick, req.type, req, now)
    ticket = book.next_ticket()
    stoplimit = req.stoplimit if req.type in STOP_LIMIT_TYPES else 0.0
    book.put_order(
        TradeOrder(
            ticket=ticket,
            time_setup=now,
            time_setup_msc=now_ms,
            time_done=0,
            time_done_msc=0,
            time_expiration=expires_at(req.type_time, req.expiration, now),
            type=req.type,
            type_time=req.type_time,
            type_filling=req.type_filling,
            state=mt5.ORDER_STATE_PLACED,
            magic=req.magic,
            position_id=0,
            position_by_id=0,
            reason=mt5.ORDER_REASON_EXPERT,
            volume_initial=req.volume,
            volume_current=req.volume,
            price_open=req.price,
            sl=req.sl,
            tp=req.tp,
            price_current=tick.ask if is_buy(req.type) else tick.bid,
            price_stoplimit=stoplimit,
            symbol=info.name,
            comment=req.comment,
            external_id="",
        )
    )
    return Execution(mt5.TRADE_RETCODE_PLACED, 0, ticket, req.volume, 0.0)


def modify(book: Book, req: TradeRequest, now_ms: int) -> Execution:
    """TRADE_ACTION_MODIFY: new price, stoplimit, SL, TP and expiration of a pending order."""
    order = _order(book, req.order)
    info = symbol_info(book, order.symbol)
    tick = market_tick(book, info)
    now = now_ms // 1000
    stoplimit = req.stoplimit if order.type in STOP_LIMIT_TYPES else 0.0
    expiration = expires_at(req.type_time, req.expiration, order.time_setup)
    new = (req.price, stoplimit, req.sl, req.tp, req.type_time, expiration)
    old = (order.price_open, order.price_stoplimit, order.sl, order.tp, order.type_time)
    if new == (*old, order.time_expiration):
        raise Reject(mt5.TRADE_RETCODE_NO_CHANGES, f"order {order.ticket} has these values")
    checks.frozen(info, [_market_distance(order, tick)], f"order {order.ticket}")
    _check_levels(info, tick, order.type, req, now)
    book.put_order(
        order._replace(
            price_open=req.price,
            price_stoplimit=stoplimit,
            sl=req.sl,
            tp=req.tp,
            type_time=req.type_time,
            time_expiration=expiration,
        )
    )
    return Execution(mt5.TRADE_RETCODE_DONE, 0, order.ticket, order.volume_current, 0.0)


def remove(book: Book, req: TradeRequest, now_ms: int) -> Execution:
    """TRADE_ACTION_REMOVE: cancel a pending order; it moves to the history as CANCELED."""
    order = _order(book, req.order)
    info = symbol_info(book, order.symbol)
    tick = book.ticks.get(order.symbol)
    if tick is not None:
        checks.frozen(info, [_market_distance(order, tick)], f"order {order.ticket}")
    book.drop_order(order.ticket)
    book.add_history(
        order._replace(
            state=mt5.ORDER_STATE_CANCELED, time_done=now_ms // 1000, time_done_msc=now_ms
        )
    )
    return Execution(mt5.TRADE_RETCODE_DONE, 0, order.ticket, order.volume_current, 0.0)
