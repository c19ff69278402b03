"""Booking executions into a `Book`: deals, positions and finished orders, MT5-shaped.

As in MT5, a position's ticket and identifier are the ticket of the order that opened it, every
execution is a deal (entry IN, OUT, INOUT or OUT_BY) tied to an order that ends up in the
history, and a closing deal carries the realized profit and the swap the closed volume
accumulated, which move the balance. Lots are added and subtracted as decimals so 0.3 - 0.1
stays 0.2; a netting position's average price is kept exact (MT5 does not round it to the
symbol's digits).
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from brokers.mt5 import constants as mt5
from brokers.mt5.records import TradeDeal, TradeOrder, TradePosition
from brokers.sim.book import Book
from brokers.sim.margin import money


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


class Fill(NamedTuple):
    """One order executing `volume` lots of `symbol` at `price` at `now_ms`: what its deal, the
    position it opens or moves, and its history entry all carry.

    `buy` is the order's side (a close-by order, closing both sides, gives the first
    position's closing side); `sl` and `tp` are the stops of a position the fill opens.
    """

    order: int
    now_ms: int
    symbol: str
    buy: bool
    volume: float
    price: float
    origin: Origin
    sl: float = 0.0
    tp: float = 0.0


def lots(a: float, b: float, sign: int = 1) -> float:
    """a + sign*b in exact decimal lots."""
    return float(Decimal(str(a)) + sign * Decimal(str(b)))


def _deal_type(buy: bool) -> int:
    return mt5.DEAL_TYPE_BUY if buy else mt5.DEAL_TYPE_SELL


def finished_order(
    book: Book,
    fill: Fill,
    order_type: int,
    *,
    position_id: int = 0,
    position_by_id: int = 0,
    state: int = mt5.ORDER_STATE_FILLED,
) -> TradeOrder:
    """A market or close-by order that executed at once, added to the history."""
    now = fill.now_ms // 1000
    order = TradeOrder(
        ticket=fill.order,
        time_setup=now,
        time_setup_msc=fill.now_ms,
        time_done=now,
        time_done_msc=fill.now_ms,
        time_expiration=0,
        type=order_type,
        type_time=mt5.ORDER_TIME_GTC,
        type_filling=mt5.ORDER_FILLING_FOK,
        state=state,
        magic=fill.origin.magic,
        position_id=position_id,
        position_by_id=position_by_id,
        reason=fill.origin.reason,
        volume_initial=fill.volume,
        volume_current=0.0,
        price_open=fill.price,
        sl=0.0,
        tp=0.0,
        price_current=fill.price,
        price_stoplimit=0.0,
        symbol=fill.symbol,
        comment=fill.origin.comment,
        external_id="",
    )
    book.add_history(order)
    return order


def book_deal(
    book: Book,
    fill: Fill,
    deal_type: int,
    entry: int,
    position_id: int,
    profit: float = 0.0,
    swap: float = 0.0,
) -> TradeDeal:
    deal = TradeDeal(
        ticket=book.next_ticket(),
        order=fill.order,
        time=fill.now_ms // 1000,
        time_msc=fill.now_ms,
        type=deal_type,
        entry=entry,
        magic=fill.origin.magic,
        position_id=position_id,
        reason=fill.origin.reason,
        volume=fill.volume,
        price=fill.price,
        commission=0.0,
        swap=swap,
        profit=profit,
        fee=0.0,
        symbol=fill.symbol,
        comment=fill.origin.comment,
        external_id="",
    )
    book.add_deal(deal)
    return deal


def open_position(book: Book, fill: Fill) -> TradeDeal:
    """A new position with the opening order's ticket, and its IN deal."""
    now = fill.now_ms // 1000
    book.put_position(
        TradePosition(
            ticket=fill.order,
            time=now,
            time_msc=fill.now_ms,
            time_update=now,
            time_update_msc=fill.now_ms,
            type=mt5.POSITION_TYPE_BUY if fill.buy else mt5.POSITION_TYPE_SELL,
            magic=fill.origin.magic,
            identifier=fill.order,
            reason=mt5.POSITION_REASON_EXPERT,
            volume=fill.volume,
            price_open=fill.price,
            sl=fill.sl,
            tp=fill.tp,
            price_current=fill.price,
            swap=0.0,
            profit=0.0,
            symbol=fill.symbol,
            comment=fill.origin.comment,
            external_id="",
        )
    )
    return book_deal(book, fill, _deal_type(fill.buy), mt5.DEAL_ENTRY_IN, fill.order)


def close_volume(
    book: Book, position: TradePosition, fill: Fill, entry: int = mt5.DEAL_ENTRY_OUT
) -> TradeDeal:
    """Close `fill.volume` of `position` at `fill.price`: a deal on the position's opposite
    side with the profit and the closed volume's share of the swap; the rest stays open."""
    profit = book.closing_profit(position, fill.volume, fill.price)
    remaining = lots(position.volume, fill.volume, -1)
    swap = position.swap if remaining <= 0 else money(position.swap * fill.volume / position.volume)
    closing_side = position.type != mt5.POSITION_TYPE_BUY
    deal = book_deal(book, fill, _deal_type(closing_side), entry, position.ticket, profit, swap)
    if remaining <= 0:
        book.drop_position(position.ticket)
    else:
        book.put_position(
            position._replace(
                volume=remaining,
                swap=money(position.swap - swap),
                time_update=fill.now_ms // 1000,
                time_update_msc=fill.now_ms,
            )
        )
    return deal


def average(price: float, volume: float, other: float, other_volume: float) -> float:
    """The volume-weighted average of two prices, computed in decimals (1.39473 × 0.1 +
    1.39496 × 0.3 over 0.4 is 1.3949025, not 1.3949025000000001)."""
    a, b = Decimal(repr(volume)), Decimal(repr(other_volume))
    total = Decimal(repr(price)) * a + Decimal(repr(other)) * b
    return float(total / (a + b))


def net_volume_after(position: TradePosition | None, buy: bool, volume: float) -> float:
    """Signed lots of a netting position after a deal (+ long, - short)."""
    held = 0.0
    if position is not None:
        held = position.volume if position.type == mt5.POSITION_TYPE_BUY else -position.volume
    return lots(held, volume, 1 if buy else -1)


def net_fill(book: Book, fill: Fill) -> TradeDeal:
    """A deal on a netting account: open, add to, reduce, close or reverse the one position."""
    position = next(book.of_symbol(fill.symbol), None)
    if position is None:
        return open_position(book, fill)
    same_side = (position.type == mt5.POSITION_TYPE_BUY) == fill.buy
    if same_side:
        total = lots(position.volume, fill.volume)
        book.put_position(
            position._replace(
                volume=total,
                price_open=average(position.price_open, position.volume, fill.price, fill.volume),
                sl=fill.sl or position.sl,
                tp=fill.tp or position.tp,
                time_update=fill.now_ms // 1000,
                time_update_msc=fill.now_ms,
            )
        )
        return book_deal(book, fill, _deal_type(fill.buy), mt5.DEAL_ENTRY_IN, position.ticket)
    if fill.volume <= position.volume:
        return close_volume(book, position, fill)
    closing = fill._replace(volume=position.volume)
    deal = close_volume(book, position, closing, mt5.DEAL_ENTRY_INOUT)
    book.deals[-1] = deal = deal._replace(volume=fill.volume)
    book.put_position(
        position._replace(
            type=mt5.POSITION_TYPE_BUY if fill.buy else mt5.POSITION_TYPE_SELL,
            volume=lots(fill.volume, position.volume, -1),
            price_open=fill.price,
            price_current=fill.price,
            swap=0.0,
            sl=fill.sl,
            tp=fill.tp,
            time_update=fill.now_ms // 1000,
            time_update_msc=fill.now_ms,
        )
    )
    return deal
