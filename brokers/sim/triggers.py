"""What one tick does to an account: the swaps of a rollover it passed are charged, pending
orders trigger or expire, positions hit SL or TP, and the account is stopped out if its
margin level (or equity) fell to the stop-out level (`stopout.py`).

Fills happen at the triggering tick's price (ask for buys, bid for sells, on the symbol's
digits), so a gap fills at the market, as MT5 does for stops; a limit can only fill at its
price or better. A triggered order that the free margin cannot carry is cancelled (state
REJECTED) without a deal. SL/TP closes are deals with reason DEAL_REASON_SL / DEAL_REASON_TP
and comment `[sl 1.08500]`.
"""

from __future__ import annotations

from brokers.mt5 import constants as mt5
from brokers.mt5.records import TradeDeal, TradeOrder, TradePosition
from brokers.sim.book import Book
from brokers.sim.booking import Fill, Origin, close_volume, finished_order
from brokers.sim.checks import Reject
from brokers.sim.matching import (
    STOP_LIMIT_TYPES,
    close_price,
    fill_price,
    is_buy,
    pending_triggered,
    stop_hit,
)
from brokers.sim.stopout import stop_out
from brokers.sim.swaps import charge_due
from brokers.sim.trading import enter
from model.tick import Tick

LIMIT_OF_STOP_LIMIT = {
    mt5.ORDER_TYPE_BUY_STOP_LIMIT: mt5.ORDER_TYPE_BUY_LIMIT,
    mt5.ORDER_TYPE_SELL_STOP_LIMIT: mt5.ORDER_TYPE_SELL_LIMIT,
}
ORDER_REASON_OF_DEAL = {
    mt5.DEAL_REASON_SL: mt5.ORDER_REASON_SL,
    mt5.DEAL_REASON_TP: mt5.ORDER_REASON_TP,
}


def apply_tick(book: Book, symbol: str, tick: Tick, now_ms: int) -> list[TradeDeal]:
    """Apply `tick` of `symbol` to the book; the deals it caused, in order."""
    book.ticks[symbol] = tick
    first = len(book.deals)
    charge_due(book, now_ms)
    orders = sorted((o for o in book.orders.values() if o.symbol == symbol), key=lambda o: o.ticket)
    for order in orders:
        if order.type_time != mt5.ORDER_TIME_GTC and 0 < order.time_expiration <= now_ms / 1000:
            _finish(book, order, mt5.ORDER_STATE_EXPIRED, now_ms)
            continue
        if not pending_triggered(order.type, order.price_open, tick):
            continue
        if order.type in STOP_LIMIT_TYPES:
            order = order._replace(
                type=LIMIT_OF_STOP_LIMIT[order.type],
                price_open=order.price_stoplimit,
                price_stoplimit=0.0,
            )
            book.put_order(order)
            if not pending_triggered(order.type, order.price_open, tick):
                continue
        _fill(book, order, tick, now_ms)
    for position in list(book.of_symbol(symbol)):
        reason = stop_hit(position, tick)
        if reason is not None:
            _close_at_stop(book, position, reason, tick, now_ms)
    stop_out(book, now_ms)
    return book.deals[first:]


def _finish(book: Book, order: TradeOrder, state: int, now_ms: int) -> None:
    """Move a pending order to the history (expired or rejected)."""
    book.drop_order(order.ticket)
    book.add_history(order._replace(state=state, time_done=now_ms // 1000, time_done_msc=now_ms))


def _fill(book: Book, order: TradeOrder, tick: Tick, now_ms: int) -> None:
    buy = is_buy(order.type)
    info = book.symbols.get(order.symbol)
    price = fill_price(buy, tick, info.digits if info else None)
    origin = Origin(order.magic, order.comment, mt5.DEAL_REASON_EXPERT)
    volume = order.volume_current
    fill = Fill(order.ticket, now_ms, order.symbol, buy, volume, price, origin, order.sl, order.tp)
    try:
        deal = enter(book, fill)
    except Reject:
        _finish(book, order, mt5.ORDER_STATE_REJECTED, now_ms)
        return
    book.drop_order(order.ticket)
    book.add_history(
        order._replace(
            state=mt5.ORDER_STATE_FILLED,
            time_done=now_ms // 1000,
            time_done_msc=now_ms,
            volume_current=0.0,
            price_current=price,
            position_id=deal.position_id,
        )
    )


def _close_at_stop(
    book: Book, position: TradePosition, reason: int, tick: Tick, now_ms: int
) -> None:
    info = book.symbols.get(position.symbol)
    digits = info.digits if info else 5
    price = close_price(position.type, tick, digits)
    level = position.sl if reason == mt5.DEAL_REASON_SL else position.tp
    comment = f"[{'sl' if reason == mt5.DEAL_REASON_SL else 'tp'} {level:.{digits}f}]"
    buy = position.type == mt5.POSITION_TYPE_SELL  # the side that closes the position
    origin = Origin(position.magic, comment, reason)
    fill = Fill(book.next_ticket(), now_ms, position.symbol, buy, position.volume, price, origin)
    close_volume(book, position, fill)
    order_origin = origin._replace(reason=ORDER_REASON_OF_DEAL[reason])
    closing_type = mt5.ORDER_TYPE_BUY if buy else mt5.ORDER_TYPE_SELL
    finished_order(
        book, fill._replace(origin=order_origin), closing_type, position_id=position.ticket
    )
