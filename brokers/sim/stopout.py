"""Margin call and stop-out, as MT5's trade server applies them on every price change.

The account's levels are `margin_so_call` and `margin_so_so` (AccountInfo), read by
`margin_so_mode`: ACCOUNT_STOPOUT_MODE_PERCENT compares the margin level (equity / margin ×
100, only while margin is held) with them, ACCOUNT_STOPOUT_MODE_MONEY compares the equity.
At or below the margin call level the account is in margin call (a state: nothing is closed);
at or below the stop-out level the position with the largest loss (profit and swap) is closed
at the market, and the account is valued again, until it is above the level or holds nothing.
Each close is a deal with reason DEAL_REASON_SO (its order ORDER_REASON_SO), commented as
`[so 29.52%/2952.00/10000.00]`: the margin level (percent mode), equity and margin that
triggered it.
"""

from __future__ import annotations

from enum import Enum

from brokers.mt5 import constants as mt5
from brokers.mt5.records import TradeDeal, TradePosition
from brokers.sim.book import Account, Book, Summary
from brokers.sim.booking import Fill, Origin, close_volume, finished_order
from brokers.sim.matching import close_price


class MarginState(Enum):
    OK = "ok"
    MARGIN_CALL = "margin_call"
    STOP_OUT = "stop_out"


def state(account: Account, summary: Summary) -> MarginState:
    """Where the account stands against its margin call and stop-out levels."""
    if account.margin_so_mode == mt5.ACCOUNT_STOPOUT_MODE_MONEY:
        value, applies = summary.equity, True
    else:
        value, applies = summary.margin_level, summary.margin > 0
    if applies and value <= account.margin_so_so:
        return MarginState.STOP_OUT
    if applies and value <= account.margin_so_call:
        return MarginState.MARGIN_CALL
    return MarginState.OK


def stop_out(book: Book, now_ms: int) -> list[TradeDeal]:
    """Close the most losing positions while the account is at or below its stop-out level;
    the deals made, in order."""
    deals: list[TradeDeal] = []
    while book.positions:
        summary = book.summary()
        if state(book.account, summary) is not MarginState.STOP_OUT:
            break
        closable = [p for p in book.positions.values() if p.symbol in book.ticks]
        if not closable:
            break
        worst = min(closable, key=lambda p: (_loss(book, p), p.ticket))
        deals.append(_close(book, worst, summary, now_ms))
    return deals


def _loss(book: Book, position: TradePosition) -> float:
    valued = book.valued(position)
    return valued.profit + valued.swap


def _close(book: Book, position: TradePosition, summary: Summary, now_ms: int) -> TradeDeal:
    info = book.symbols.get(position.symbol)
    digits = info.digits if info else None
    price = close_price(position.type, book.ticks[position.symbol], digits)
    level = ""
    if book.account.margin_so_mode != mt5.ACCOUNT_STOPOUT_MODE_MONEY:
        level = f"{summary.margin_level:.2f}%/"
    comment = f"[so {level}{summary.equity:.2f}/{summary.margin:.2f}]"
    buy = position.type == mt5.POSITION_TYPE_SELL  # the side that closes it
    origin = Origin(position.magic, comment, mt5.DEAL_REASON_SO)
    fill = Fill(book.next_ticket(), now_ms, position.symbol, buy, position.volume, price, origin)
    deal = close_volume(book, position, fill)
    order_origin = origin._replace(reason=mt5.ORDER_REASON_SO)
    closing_type = mt5.ORDER_TYPE_BUY if buy else mt5.ORDER_TYPE_SELL
    finished_order(
        book, fill._replace(origin=order_origin), closing_type, position_id=position.ticket
    )
    return deal
