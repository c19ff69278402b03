"""Checks of a request against the account and the market: symbol, quotes, trade mode, money.

Like `checks`, each raises `Reject` with MT5's retcode; these need the loaded `Book`.
"""

from __future__ import annotations

from brokers.mt5 import constants as mt5
from brokers.mt5.records import SymbolInfo, TradePosition
from brokers.sim import checks
from brokers.sim.book import Book
from brokers.sim.checks import Reject
from brokers.sim.margin import PricingError
from brokers.sim.matching import close_price
from model.tick import Tick


def symbol_info(book: Book, name: str) -> SymbolInfo:
    info = book.symbols.get(name)
    if info is None:
        raise Reject(mt5.TRADE_RETCODE_INVALID, f"symbol {name!r} is not traded here")
    return info


def market_tick(book: Book, info: SymbolInfo) -> Tick:
    """The symbol's latest tick; 10018 when its market is closed, 10021 before any tick."""
    if not book.market_open:
        raise Reject(mt5.TRADE_RETCODE_MARKET_CLOSED, f"the {info.name} market is closed")
    tick = book.ticks.get(info.name)
    if tick is None or tick.bid <= 0 or tick.ask <= 0:
        raise Reject(mt5.TRADE_RETCODE_PRICE_OFF, f"no quotes for {info.name} yet")
    return tick


def trade_mode(info: SymbolInfo, buy: bool) -> None:
    """10017/10042/10043/10044 when the symbol's trade_mode forbids opening this side."""
    mode = info.trade_mode
    if mode == mt5.SYMBOL_TRADE_MODE_DISABLED:
        raise Reject(mt5.TRADE_RETCODE_TRADE_DISABLED, f"trading {info.name} is disabled")
    if mode == mt5.SYMBOL_TRADE_MODE_LONGONLY and not buy:
        raise Reject(mt5.TRADE_RETCODE_LONG_ONLY, f"{info.name} allows long positions only")
    if mode == mt5.SYMBOL_TRADE_MODE_SHORTONLY and buy:
        raise Reject(mt5.TRADE_RETCODE_SHORT_ONLY, f"{info.name} allows short positions only")
    if mode == mt5.SYMBOL_TRADE_MODE_CLOSEONLY:
        raise Reject(mt5.TRADE_RETCODE_CLOSE_ONLY, f"{info.name} allows closing only")


def require_margin(book: Book, symbol: str, buy: bool, volume: float, price: float) -> None:
    """10019 when a deal of `volume` lots at `price` raises the account's margin by more than
    its free margin (the symbol's margin after the deal less before it: a deal that covers an
    opposite position, or reduces a netting one, needs none)."""
    try:
        extra = book.symbol_margin(symbol, (buy, volume, price)) - book.symbol_margin(symbol)
    except PricingError as error:
        raise Reject(mt5.TRADE_RETCODE_PRICE_OFF, str(error)) from error
    if extra <= 0:
        return
    free = book.summary().margin_free
    if extra > free:
        raise Reject(
            mt5.TRADE_RETCODE_NO_MONEY, f"margin {extra:.2f} exceeds free margin {free:.2f}"
        )


def position_frozen(info: SymbolInfo, position: TradePosition, tick: Tick) -> None:
    price = close_price(position.type, tick)
    levels = [level for level in (position.sl, position.tp) if level > 0]
    checks.frozen(info, [price - level for level in levels], f"position {position.ticket}")
