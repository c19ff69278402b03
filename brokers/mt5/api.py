"""`MT5Api`: the module-level functions of the MetaTrader5 package, as a typing.Protocol.

This is the one description of the API: `import MetaTrader5 as mt5` satisfies it as it is (its
32 terminal functions, in the order of MetaQuotes' "Python Integration" reference), and
eaflow's own look-alikes derive from it through `Mt5Module` (the mt5linux client
`brokers.mt5.linux.LinuxTerminal` forwards each function by its signature here, the simulator
`brokers.sim.SimTerminal` implements them), so the adapter is written once. Conventions are
MT5's: blocking calls; a failed call returns None (False for the bool functions) and
`last_error()` tells why, e.g. `(-10004, "No IPC connection")` before `initialize()`. Dates are
`datetime` (naive means UTC) or Unix seconds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from brokers.mt5 import constants, records
from brokers.mt5.records import (
    AccountInfo,
    BookInfo,
    OrderCheckResult,
    OrderSendResult,
    SymbolInfo,
    TerminalInfo,
    TradeDeal,
    TradeOrder,
    TradePosition,
    TradeRequest,
)
from model.tick import Tick

Date = datetime | int
Rates = npt.NDArray[np.void]
"""Bars (`copy_rates_*`) or ticks (`copy_ticks_*`): numpy structured arrays, oldest first."""


class MT5Api(Protocol):
    """What eaflow calls on a MetaTrader5-like module; `terminal_info` may answer None."""

    def initialize(
        self,
        path: str | None = None,
        *,
        login: int | None = None,
        password: str | None = None,
        server: str | None = None,
        timeout: int | None = None,
        portable: bool = False,
    ) -> bool: ...

    def login(
        self,
        login: int,
        *,
        password: str | None = None,
        server: str | None = None,
        timeout: int | None = None,
    ) -> bool: ...

    def shutdown(self) -> None: ...

    def last_error(self) -> tuple[int, str]: ...

    def version(self) -> tuple[int, int, str] | None: ...

    def account_info(self) -> AccountInfo | None: ...

    def terminal_info(self) -> TerminalInfo | None: ...

    def symbols_total(self) -> int | None: ...

    def symbols_get(self, group: str | None = None) -> tuple[SymbolInfo, ...] | None: ...

    def symbol_info(self, symbol: str) -> SymbolInfo | None: ...

    def symbol_info_tick(self, symbol: str) -> Tick | None: ...

    def symbol_select(self, symbol: str, enable: bool = True) -> bool: ...

    def market_book_add(self, symbol: str) -> bool: ...

    def market_book_get(self, symbol: str) -> tuple[BookInfo, ...] | None: ...

    def market_book_release(self, symbol: str) -> bool: ...

    def copy_rates_from(
        self, symbol: str, timeframe: int, date_from: Date, count: int
    ) -> Rates | None: ...

    def copy_rates_from_pos(
        self, symbol: str, timeframe: int, start_pos: int, count: int
    ) -> Rates | None: ...

    def copy_rates_range(
        self, symbol: str, timeframe: int, date_from: Date, date_to: Date
    ) -> Rates | None: ...

    def copy_ticks_from(
        self, symbol: str, date_from: Date, count: int, flags: int
    ) -> Rates | None: ...

    def copy_ticks_range(
        self, symbol: str, date_from: Date, date_to: Date, flags: int
    ) -> Rates | None: ...

    def order_calc_margin(
        self, action: int, symbol: str, volume: float, price: float
    ) -> float | None: ...

    def order_calc_profit(
        self, action: int, symbol: str, volume: float, price_open: float, price_close: float
    ) -> float | None: ...

    def order_check(self, request: dict[str, Any]) -> OrderCheckResult | None: ...

    def order_send(self, request: dict[str, Any]) -> OrderSendResult | None: ...

    def positions_total(self) -> int | None: ...

    def positions_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradePosition, ...] | None: ...

    def orders_total(self) -> int | None: ...

    def orders_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradeOrder, ...] | None: ...

    def history_orders_total(self, date_from: Date, date_to: Date) -> int | None: ...

    def history_orders_get(
        self,
        date_from: Date | None = None,
        date_to: Date | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeOrder, ...] | None: ...

    def history_deals_total(self, date_from: Date, date_to: Date) -> int | None: ...

    def history_deals_get(
        self,
        date_from: Date | None = None,
        date_to: Date | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeDeal, ...] | None:
        """`ticket` is an *order* ticket (the deals' DEAL_ORDER), `position` a position's
        identifier (DEAL_POSITION_ID), as MetaQuotes documents them."""
        ...


class Mt5Module(MT5Api):
    """Base of eaflow's MetaTrader5 look-alikes: the functions above; MT5's constants as
    attributes (`mt5.TRADE_ACTION_DEAL`) and its record types (`from MetaTrader5 import
    TradePosition`), as the package has them; and the package's own Python helpers `Buy`,
    `Sell` and `Close`, written on top of the functions as the package writes them.

    A subclass that leaves a function out cannot be instantiated (mypy: abstract class).
    """

    AccountInfo = AccountInfo
    BookInfo = BookInfo
    OrderCheckResult = OrderCheckResult
    OrderSendResult = OrderSendResult
    SymbolInfo = SymbolInfo
    TerminalInfo = TerminalInfo
    Tick = Tick
    TradeDeal = TradeDeal
    TradeOrder = TradeOrder
    TradePosition = TradePosition
    TradeRequest = TradeRequest

    def __getattr__(self, name: str) -> int:
        value = getattr(constants, name, None) if name.isupper() else None
        if not isinstance(value, int):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return value

    # The package's helpers (MetaTrader5/__init__.py): a market deal with deviation 10 at
    # `price`, or at the latest quote tried up to 10 times past requotes and missing prices.

    def _RawOrder(  # the package's name
        self,
        order_type: int,
        symbol: str,
        volume: float,
        price: float,
        comment: str | None = None,
        ticket: int | None = None,
    ) -> records.OrderSendResult | None:
        order: dict[str, Any] = {
            "action": constants.TRADE_ACTION_DEAL,
            "symbol": symbol,
            "volume": volume,
            "type": order_type,
            "price": price,
            "deviation": 10,
        }
        if comment is not None:
            order["comment"] = comment
        if ticket is not None:
            order["position"] = ticket
        return self.order_send(order)

    def _market(
        self,
        order_type: int,
        symbol: str,
        volume: float,
        price: float | None,
        comment: str | None,
        ticket: int | None,
    ) -> records.OrderSendResult | None:
        if price is not None:
            return self._RawOrder(order_type, symbol, volume, price, comment, ticket)
        result = None
        for _ in range(10):
            tick = self.symbol_info_tick(symbol)
            if tick is None:
                return None
            quote = tick.ask if order_type == constants.ORDER_TYPE_BUY else tick.bid
            result = self._RawOrder(order_type, symbol, volume, quote, comment, ticket)
            if result is None:
                return None
            if result.retcode not in _TRY_AGAIN:
                break
        return result

    def Buy(  # the package's name
        self,
        symbol: str,
        volume: float,
        price: float | None = None,
        *,
        comment: str | None = None,
        ticket: int | None = None,
    ) -> records.OrderSendResult | None:
        """Buy `volume` lots at `price`, or at the ask (closes `ticket` when given)."""
        return self._market(constants.ORDER_TYPE_BUY, symbol, volume, price, comment, ticket)

    def Sell(  # the package's name
        self,
        symbol: str,
        volume: float,
        price: float | None = None,
        *,
        comment: str | None = None,
        ticket: int | None = None,
    ) -> records.OrderSendResult | None:
        """Sell `volume` lots at `price`, or at the bid (closes `ticket` when given)."""
        return self._market(constants.ORDER_TYPE_SELL, symbol, volume, price, comment, ticket)

    def Close(  # the package's name
        self, symbol: str, *, comment: str | None = None, ticket: int | None = None
    ) -> bool | str | None:
        """Close the positions of `symbol` (or position `ticket`) at market: True when all
        closed, "Partially" when some did, False when none, None when a call failed."""
        positions = (
            self.positions_get(ticket=ticket)
            if ticket is not None
            else self.positions_get(symbol=symbol)
        )
        tried = done = 0
        for position in positions or ():
            tried += 1
            buy = position.type == constants.POSITION_TYPE_BUY
            for _ in range(10):
                tick = self.symbol_info_tick(symbol)
                if tick is None:
                    return None
                side = constants.ORDER_TYPE_SELL if buy else constants.ORDER_TYPE_BUY
                price = tick.bid if buy else tick.ask
                result = self._RawOrder(
                    side, symbol, position.volume, price, comment, position.ticket
                )
                if result is None:
                    return None
                if result.retcode not in _TRY_AGAIN:
                    done += result.retcode == constants.TRADE_RETCODE_DONE
                    break
        if done > 0:
            return True if done == tried else "Partially"
        return False


_TRY_AGAIN = (constants.TRADE_RETCODE_REQUOTE, constants.TRADE_RETCODE_PRICE_OFF)
