"""`MT5Api`: the module-level functions of the MetaTrader5 package, as a typing.Protocol.

This is the one description of the API: `import MetaTrader5 as mt5` satisfies it as it is, and
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

from brokers.mt5 import constants
from brokers.mt5.records import (
    AccountInfo,
    OrderCheckResult,
    OrderSendResult,
    SymbolInfo,
    TerminalInfo,
    TradeDeal,
    TradeOrder,
    TradePosition,
)
from model.tick import Tick

Date = datetime | int


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

    def symbols_get(self, group: str | None = None) -> tuple[SymbolInfo, ...] | None: ...

    def symbol_info(self, symbol: str) -> SymbolInfo | None: ...

    def symbol_info_tick(self, symbol: str) -> Tick | None: ...

    def symbol_select(self, symbol: str, enable: bool = True) -> bool: ...

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

    def history_orders_get(
        self,
        date_from: Date | None = None,
        date_to: Date | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeOrder, ...] | None: ...

    def history_deals_get(
        self,
        date_from: Date | None = None,
        date_to: Date | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeDeal, ...] | None: ...

    def copy_ticks_from(
        self, symbol: str, date_from: Date, count: int, flags: int
    ) -> npt.NDArray[np.void] | None: ...


class Mt5Module(MT5Api):
    """Base of eaflow's MetaTrader5 look-alikes: the functions above, and MT5's constants as
    attributes (`mt5.TRADE_ACTION_DEAL`), as the package has them.

    A subclass that leaves a function out cannot be instantiated (mypy: abstract class).
    """

    def __getattr__(self, name: str) -> int:
        value = getattr(constants, name, None) if name.isupper() else None
        if not isinstance(value, int):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return value
