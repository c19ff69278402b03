"""Booking executions into a `Book`: deals, positions and finished orders, MT5-shaped.

As in MT5, a position's ticket and identifier are the ticket of the order that opened it, every
execution is a deal (entry IN, OUT, INOUT or OUT_BY) tied to an order that ends up in the
history, and a closing deal carries the realized profit, which moves the balance. Lots are
added and subtracted as decimals so 0.3 - 0.1 stays 0.2.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from brokers.mt5 import constants as mt5
from brokers.mt5.records import TradeDeal, TradeOrder, TradePosition
from brokers.sim.book import Book


class Execution(NamedTuple):
    """What `order_send` reports for an accepted request."""

    retcode: int
    deal: int = 0
    order: int = 0
    volume: float = 0.0
    price: float = 0.0


class Origin(NamedTuple):
    """Who asked: the tags MT5 copies from the order to its deals and position."""

    magic: int
    comment: str
    reason: int = mt5.DEAL_REASON_EXPERT


def lots(a: float, b: float, sign: int = 1) -> float:
    """a + sign*b in exact decimal lots."""
    return float(Decimal(str(a)) + sign * Decimal(str(b)))


def finished_order(
    book: Book,
    ticket: int,
    now_ms: int,
    order_type: int,
    volume: float,
    price: float,
    symbol: str,
    origin: Origin,
    *,
    position_id: int = 0,
    position_by_id: int = 0,
    state: int = mt5.ORDER_STATE_FILLED,
) -> TradeOrder:
    """A market or close-by order that executed at once, added to the history."""
    now = now_ms // 1000
    order = TradeOrder(
        ticket=ticket,
        time_setup=now,
        time_setup_msc=now_ms,
        time_done=now,
        time_done_msc=now_ms,
        time_expiration=0,
        type=order_type,
        type_time=mt5.ORDER_TIME_GTC,
        type_filling=mt5.ORDER_FILLING_FOK,
        state=state,
        magic=origin.magic,
        position_id=position_id,
        position_by_id=position_by_id,
        reason=origin.reason,
        volume_initial=volume,
        volume_current=0.0,
        price_open=price,
        sl=0.0,
        tp=0.0,
        price_current=price,
        price_stoplimit=0.0,
        symbol=symbol,
        comment=origin.comment,
        external_id="",
    )
    book.add_history(order)
    return order


def book_deal(
    book: Book,
    order: int,
    now_ms: int,
    deal_type: int,
    entry: int,
    position_id: int,
    volume: float,
    price: float,
    profit: float,
    symbol: str,
    origin: Origin,
) -> TradeDeal:
    deal = TradeDeal(
        ticket=book.next_ticket(),
        order=order,
        time=now_ms // 1000,
        time_msc=now_ms,
        type=deal_type,
        entry=entry,
        magic=origin.magic,
        position_id=position_id,
        reason=origin.reason,
        volume=volume,
        price=price,
        commission=0.0,
        swap=0.0,
        profit=profit,
        fee=0.0,
        symbol=symbol,
        comment=origin.comment,
        external_id="",
    )
    book.add_deal(deal)
    return deal


def open_position(
    book: Book,
    ticket: int,
    now_ms: int,
    buy: bool,
    volume: float,
    price: float,
    sl: float,
    tp: float,
    symbol: str,
    origin: Origin,
) -> TradeDeal:
    """A new position with the opening order's ticket, and its IN deal."""
    position_type = mt5.POSITION_TYPE_BUY if buy else mt5.POSITION_TYPE_SELL
    book.put_position(
        TradePosition(
            ticket,
            now_ms // 1000,
            now_ms,
            now_ms // 1000,
            now_ms,
            position_type,
            origin.magic,
            ticket,
            mt5.POSITION_REASON_EXPERT,
            volume,
            price,
            sl,
            tp,
            price,
            0.0,
            0.0,
            symbol,
            origin.comment,
            "",
        )
    )
    deal_type = mt5.DEAL_TYPE_BUY if buy else mt5.DEAL_TYPE_SELL
    return book_deal(
        book,
        ticket,
        now_ms,
        deal_type,
        mt5.DEAL_ENTRY_IN,
        ticket,
        volume,
        price,
        0.0,
        symbol,
        origin,
    )


def close_volume(
    book: Book,
    position: TradePosition,
    volume: float,
    price: float,
    order: int,
    now_ms: int,
    origin: Origin,
    entry: int = mt5.DEAL_ENTRY_OUT,
) -> TradeDeal:
    """Close `volume` of `position` at `price`: an OUT deal with the profit; the rest stays open."""
    profit = book.closing_profit(position, volume, price)
    buy = position.type == mt5.POSITION_TYPE_BUY
    deal_type = mt5.DEAL_TYPE_SELL if buy else mt5.DEAL_TYPE_BUY
    deal = book_deal(
        book,
        order,
        now_ms,
        deal_type,
        entry,
        position.ticket,
        volume,
        price,
        profit,
        position.symbol,
        origin,
    )
    remaining = lots(position.volume, volume, -1)
    if remaining <= 0:
        book.drop_position(position.ticket)
    else:
        book.put_position(
            position._replace(volume=remaining, time_update=now_ms // 1000, time_update_msc=now_ms)
        )
    return deal


def net_volume_after(position: TradePosition | None, buy: bool, volume: float) -> float:
    """Signed lots of a netting position after a deal (+ long, - short)."""
    held = 0.0
    if position is not None:
        held = position.volume if position.type == mt5.POSITION_TYPE_BUY else -position.volume
    return lots(held, volume, 1 if buy else -1)


def net_fill(
    book: Book,
    ticket: int,
    now_ms: int,
    buy: bool,
    volume: float,
    price: float,
    sl: float,
    tp: float,
    symbol: str,
    origin: Origin,
) -> TradeDeal:
    """A deal on a netting account: open, add to, reduce, close or reverse the one position."""
    position = next(book.of_symbol(symbol), None)
    if position is None:
        return open_position(book, ticket, now_ms, buy, volume, price, sl, tp, symbol, origin)
    same_side = (position.type == mt5.POSITION_TYPE_BUY) == buy
    if same_side:
        total = lots(position.volume, volume)
        info = book.symbols.get(symbol)
        digits = info.digits if info else 8
        average = round((position.price_open * position.volume + price * volume) / total, digits)
        book.put_position(
            position._replace(
                volume=total,
                price_open=average,
                sl=sl or position.sl,
                tp=tp or position.tp,
                time_update=now_ms // 1000,
                time_update_msc=now_ms,
            )
        )
        deal_type = mt5.DEAL_TYPE_BUY if buy else mt5.DEAL_TYPE_SELL
        return book_deal(
            book,
            ticket,
            now_ms,
            deal_type,
            mt5.DEAL_ENTRY_IN,
            position.ticket,
            volume,
            price,
            0.0,
            symbol,
            origin,
        )
    if volume <= position.volume:
        return close_volume(book, position, volume, price, ticket, now_ms, origin)
    deal = close_volume(
        book, position, position.volume, price, ticket, now_ms, origin, mt5.DEAL_ENTRY_INOUT
    )
    book.deals[-1] = deal = deal._replace(volume=volume)
    book.put_position(
        position._replace(
            type=mt5.POSITION_TYPE_BUY if buy else mt5.POSITION_TYPE_SELL,
            volume=lots(volume, position.volume, -1),
            price_open=price,
            price_current=price,
            sl=sl,
            tp=tp,
            time_update=now_ms // 1000,
            time_update_msc=now_ms,
        )
    )
    return deal
