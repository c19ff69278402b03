"""The trade server's handling of one request on a `Book`: market deals, SL/TP, close-by.

`execute(book, request, now_ms)` checks the request as MT5 does (raising `Reject` with MT5's
retcode) and books its effect; pending orders are in `pending.py`. Market deals fill at the
latest tick: buys at the ask, sells at the bid. A deal with `position=ticket` closes (part of)
that position; on a netting account deals add to, reduce or reverse the symbol's one position.
"""

from __future__ import annotations

from collections.abc import Callable

from brokers.mt5 import constants as mt5
from brokers.mt5.records import TradeDeal, TradePosition, TradeRequest
from brokers.sim import checks, pending
from brokers.sim.book import Book
from brokers.sim.booking import (
    Execution,
    Fill,
    Origin,
    close_volume,
    finished_order,
    net_fill,
    open_position,
)
from brokers.sim.checks import Reject
from brokers.sim.guards import market_tick, position_frozen, require_margin, symbol_info, trade_mode
from brokers.sim.matching import close_price, fill_price

Handler = Callable[[Book, TradeRequest, int], Execution]


def _position(book: Book, ticket: int) -> TradePosition:
    position = book.positions.get(ticket)
    if position is None:
        raise Reject(mt5.TRADE_RETCODE_POSITION_CLOSED, f"position {ticket} is not open")
    return position


def deal(book: Book, req: TradeRequest, now_ms: int) -> Execution:
    """TRADE_ACTION_DEAL: open at market, or close `position` (fully or partly)."""
    info = symbol_info(book, req.symbol)
    if req.type not in (mt5.ORDER_TYPE_BUY, mt5.ORDER_TYPE_SELL):
        raise Reject(mt5.TRADE_RETCODE_INVALID_ORDER, f"type {req.type} is not a market order")
    buy = req.type == mt5.ORDER_TYPE_BUY
    position = _position(book, req.position) if req.position else None
    tick = market_tick(book, info)
    checks.volume(info, req.volume)
    checks.filling(info, req.type, req.type_filling, pending=False)
    price = fill_price(buy, tick, info.digits)
    checks.deviation(info, req.price, price, req.deviation)
    if position is not None:
        if position.symbol != info.name or position.type == req.type:
            raise Reject(
                mt5.TRADE_RETCODE_INVALID,
                f"position {position.ticket} ({position.symbol}, type {position.type}) "
                f"is closed by the opposite type on its own symbol",
            )
        if req.volume > position.volume:
            raise Reject(
                mt5.TRADE_RETCODE_INVALID_CLOSE_VOLUME,
                f"volume {req.volume} exceeds position {position.ticket} volume {position.volume}",
            )
        position_frozen(info, position, tick)
    else:
        trade_mode(info, buy)
        checks.stops(info, buy, tick.bid if buy else tick.ask, req.sl, req.tp)
    origin = Origin(req.magic, req.comment)
    order = book.next_ticket()
    fill = Fill(order, now_ms, info.name, buy, req.volume, price, origin, sl=req.sl, tp=req.tp)
    done = enter(book, fill) if position is None else close_volume(book, position, fill)
    finished_order(book, fill, req.type, position_id=done.position_id)
    return Execution(mt5.TRADE_RETCODE_DONE, done.ticket, order, req.volume, price)


def enter(book: Book, fill: Fill) -> TradeDeal:
    """A new hedging position, or the netting position moved by this fill; margin checked."""
    require_margin(book, fill.symbol, fill.buy, fill.volume, fill.price)
    if book.account.hedging:
        return open_position(book, fill)
    return net_fill(book, fill)


def sltp(book: Book, req: TradeRequest, now_ms: int) -> Execution:
    """TRADE_ACTION_SLTP: set a position's SL and TP (0 removes one)."""
    if req.position:
        position = _position(book, req.position)
    else:  # netting accounts may name the symbol instead
        held = None if book.account.hedging else next(book.of_symbol(req.symbol), None)
        if held is None:
            raise Reject(mt5.TRADE_RETCODE_INVALID, "position is required")
        position = held
    info = symbol_info(book, position.symbol)
    tick = market_tick(book, info)
    if (req.sl, req.tp) == (position.sl, position.tp):
        raise Reject(mt5.TRADE_RETCODE_NO_CHANGES, f"position {position.ticket} has these SL/TP")
    position_frozen(info, position, tick)
    buy = position.type == mt5.POSITION_TYPE_BUY
    checks.stops(info, buy, close_price(position.type, tick), req.sl, req.tp)
    book.put_position(
        position._replace(sl=req.sl, tp=req.tp, time_update=now_ms // 1000, time_update_msc=now_ms)
    )
    return Execution(mt5.TRADE_RETCODE_DONE)


def close_by(book: Book, req: TradeRequest, now_ms: int) -> Execution:
    """TRADE_ACTION_CLOSE_BY: close `position` against the opposite `position_by`.

    The smaller volume of the two closes: `position` at `position_by`'s open price (carrying
    the whole profit of the pair), `position_by` at its own open price.
    """
    if not book.account.hedging:
        raise Reject(mt5.TRADE_RETCODE_INVALID, "close-by needs a hedging account")
    first, second = _position(book, req.position), _position(book, req.position_by)
    if first.symbol != second.symbol or first.type == second.type:
        raise Reject(
            mt5.TRADE_RETCODE_INVALID,
            f"positions {first.ticket} and {second.ticket} must be opposite on one symbol",
        )
    info = symbol_info(book, first.symbol)
    tick = market_tick(book, info)
    position_frozen(info, first, tick)
    position_frozen(info, second, tick)
    volume = min(first.volume, second.volume)
    price = second.price_open
    closes_first = first.type == mt5.POSITION_TYPE_SELL
    origin = Origin(req.magic, req.comment)
    fill = Fill(book.next_ticket(), now_ms, info.name, closes_first, volume, price, origin)
    done = close_volume(book, first, fill, mt5.DEAL_ENTRY_OUT_BY)
    close_volume(book, second, fill, mt5.DEAL_ENTRY_OUT_BY)
    finished_order(
        book,
        fill,
        mt5.ORDER_TYPE_CLOSE_BY,
        position_id=first.ticket,
        position_by_id=second.ticket,
    )
    return Execution(mt5.TRADE_RETCODE_DONE, done.ticket, fill.order, volume, price)


HANDLERS: dict[int, Handler] = {
    mt5.TRADE_ACTION_DEAL: deal,
    mt5.TRADE_ACTION_PENDING: pending.place,
    mt5.TRADE_ACTION_SLTP: sltp,
    mt5.TRADE_ACTION_MODIFY: pending.modify,
    mt5.TRADE_ACTION_REMOVE: pending.remove,
    mt5.TRADE_ACTION_CLOSE_BY: close_by,
}


def execute(book: Book, req: TradeRequest, now_ms: int) -> Execution:
    """Check and book one request; Reject carries MT5's retcode for what is wrong with it."""
    handler = HANDLERS.get(req.action)
    if handler is None:
        raise Reject(mt5.TRADE_RETCODE_INVALID, f"action {req.action} is not a TRADE_ACTION_*")
    return handler(book, req, now_ms)
