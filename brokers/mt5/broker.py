"""`Mt5Broker`: the async Broker protocol over any module with the MetaTrader5 API.

The real `MetaTrader5` package, an mt5linux client and the simulator's `SimTerminal` all
fit, so the executor runs the same code against each. Calls are blocking (IPC to the
terminal), so they run on one thread per broker, which also serializes them as a terminal
requires. `run` hands a whole function of the `Terminal` to that thread: the executor runs
an order's execution that way, one thread hop per order however many calls it makes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from brokers.mt5.api import MT5Api
from brokers.mt5.records import (
    AccountInfo,
    OrderCheckResult,
    OrderSendResult,
    SymbolInfo,
    TradeDeal,
    TradeOrder,
    TradePosition,
)
from brokers.mt5.terminal import Terminal
from brokers.types import Broker, BrokerUnavailable, TradeRequest
from model.tick import Tick

T = TypeVar("T")


class Mt5Broker(Broker):
    """One terminal session. `connect()` raises BrokerUnavailable with MT5's last error.

    `path` is the terminal's executable (MT5 takes it first and unnamed); `login` holds the
    other keyword arguments of `initialize()` (login, password, server, timeout, portable).
    """

    def __init__(
        self, module: MT5Api, name: str = "mt5", path: str | None = None, **login: Any
    ) -> None:
        self.module = module
        self.name = name
        self.path = path
        self.login = login
        self.terminal = Terminal(module, name)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"broker-{name}")

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, partial(fn, *args, **kwargs))

    async def run(self, work: Callable[[Terminal], T]) -> T:
        """`work(terminal)` on the terminal's thread: many calls, one hop."""
        return await self._call(work, self.terminal)

    async def connect(self) -> None:
        """Initialize the terminal and check it is logged in to the configured account."""
        args = () if self.path is None else (self.path,)
        self.terminal.forget()
        if not await self._call(self.module.initialize, *args, **self.login):
            code, text = await self.last_error()
            raise BrokerUnavailable(f"{self.name}: initialize failed ({code}, {text})")
        wanted = self.login.get("login")
        account = await self.account_info()
        if account is None or (wanted is not None and account.login != wanted):
            seen = "no account" if account is None else f"account {account.login}"
            raise BrokerUnavailable(f"{self.name}: terminal shows {seen}, expected {wanted}")

    async def close(self) -> None:
        try:
            await self._call(self.module.shutdown)
        finally:
            self._thread.shutdown(wait=False)

    async def symbols(self) -> tuple[SymbolInfo, ...]:
        """Every symbol the account can trade: `symbols_get` answers full symbol_info records."""
        return await self._call(self.terminal.symbols)

    async def symbol_info(self, symbol: str) -> SymbolInfo | None:
        return await self._call(self.terminal.symbol_info, symbol)

    async def symbol_info_tick(self, symbol: str) -> Tick | None:
        return await self._call(self.terminal.symbol_info_tick, symbol)

    async def order_check(self, request: TradeRequest) -> OrderCheckResult | None:
        return await self._call(self.terminal.order_check, request)

    async def order_send(self, request: TradeRequest) -> OrderSendResult | None:
        return await self._call(self.terminal.order_send, request)

    async def account_info(self) -> AccountInfo | None:
        return await self._call(self.terminal.account_info)

    async def positions_get(
        self, symbol: str | None = None, ticket: int | None = None
    ) -> tuple[TradePosition, ...]:
        return await self._call(self.terminal.positions_get, symbol, ticket)

    async def orders_get(
        self, symbol: str | None = None, ticket: int | None = None
    ) -> tuple[TradeOrder, ...]:
        return await self._call(self.terminal.orders_get, symbol, ticket)

    async def history_orders_get(
        self, date_from: datetime, date_to: datetime
    ) -> tuple[TradeOrder, ...]:
        return await self._call(self.terminal.history_orders_get, date_from, date_to)

    async def history_deals_get(
        self, date_from: datetime, date_to: datetime
    ) -> tuple[TradeDeal, ...]:
        return await self._call(self.terminal.history_deals_get, date_from, date_to)

    async def last_error(self) -> tuple[int, str]:
        return await self._call(self.terminal.last_error)
