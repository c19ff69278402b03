"""`Mt5Broker`: the async Broker protocol over any module with the MetaTrader5 API.

The real `MetaTrader5` package, an mt5linux client and the simulator's `SimTerminal` all
fit, so the executor runs the same code against each. Calls are blocking (IPC to the
terminal), so they run on one thread per broker, which also serializes them as a terminal
requires. Broker methods that are an MT5 function as it is (`terminal_call`) take their
signature from `MT5Api`; the others add what the `Broker` protocol promises on top.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import Any, Concatenate, ParamSpec, TypeVar

from brokers.mt5 import constants as mt5
from brokers.mt5.api import MT5Api
from brokers.mt5.records import SymbolInfo, TradeDeal, TradeOrder, TradePosition
from brokers.types import Broker, BrokerUnavailable

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

SPEC_TTL = 60.0
"""Seconds a symbol's specification is reused before `symbol_info` asks the terminal again."""


def terminal_call(
    function: Callable[Concatenate[MT5Api, P], R],
) -> Callable[Concatenate[Mt5Broker, P], Coroutine[Any, Any, R]]:
    """An `Mt5Broker` method that is the terminal's `MT5Api` function of the same name, run on
    the broker's thread: `terminal_call(MT5Api.order_send)` is `async (request) ->
    OrderSendResult | None`."""
    name = function.__name__

    async def call(broker: Mt5Broker, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await broker._call(getattr(broker.module, name), *args, **kwargs)

    call.__name__, call.__qualname__ = name, f"Mt5Broker.{name}"
    return call


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
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"broker-{name}")
        self._specs: dict[str, tuple[float, SymbolInfo]] = {}  # symbol → (when read, info)

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, partial(fn, *args, **kwargs))

    async def _many(
        self, fn: Callable[..., tuple[T, ...] | None], *args: Any, **kw: Any
    ) -> tuple[T, ...]:
        """MT5 answers None on failure, and `()` when there is nothing: keep them apart, so
        an unreachable terminal never looks like an account without positions."""
        found = await self._call(fn, *args, **kw)
        if found is not None:
            return tuple(found)
        code, text = await self.last_error()
        if code == mt5.RES_S_OK:
            return ()
        raise BrokerUnavailable(f"{self.name}: {fn.__name__} failed ({code}, {text})")

    async def connect(self) -> None:
        """Initialize the terminal and check it is logged in to the configured account."""
        args = () if self.path is None else (self.path,)
        self._specs.clear()
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
        return await self._many(self.module.symbols_get)

    async def symbol_info(self, symbol: str) -> SymbolInfo | None:
        """The symbol's specification; it is added to Market Watch first if it is not there,
        since a terminal sends no prices for hidden symbols.

        Specifications (contract size, filling modes, volume steps) do not change within a
        session, so one is reused for `SPEC_TTL` seconds and a reconnect forgets them all:
        an order then costs one terminal call less. Its bid/ask are as old as the record;
        prices come from `symbol_info_tick`.
        """
        now = time.monotonic()
        cached = self._specs.get(symbol)
        if cached is not None and now - cached[0] < SPEC_TTL:
            return cached[1]
        info = await self._call(self.module.symbol_info, symbol)
        if info is not None and not info.visible:
            await self._call(self.module.symbol_select, symbol, True)
        if info is not None:
            self._specs[symbol] = (now, info)
        return info

    symbol_info_tick = terminal_call(MT5Api.symbol_info_tick)
    order_check = terminal_call(MT5Api.order_check)
    order_send = terminal_call(MT5Api.order_send)
    account_info = terminal_call(MT5Api.account_info)

    async def positions_get(
        self, symbol: str | None = None, ticket: int | None = None
    ) -> tuple[TradePosition, ...]:
        kwargs = {k: v for k, v in (("symbol", symbol), ("ticket", ticket)) if v is not None}
        return await self._many(self.module.positions_get, **kwargs)

    async def orders_get(
        self, symbol: str | None = None, ticket: int | None = None
    ) -> tuple[TradeOrder, ...]:
        kwargs = {k: v for k, v in (("symbol", symbol), ("ticket", ticket)) if v is not None}
        return await self._many(self.module.orders_get, **kwargs)

    async def history_orders_get(
        self, date_from: datetime, date_to: datetime
    ) -> tuple[TradeOrder, ...]:
        return await self._many(self.module.history_orders_get, date_from, date_to)

    async def history_deals_get(
        self, date_from: datetime, date_to: datetime
    ) -> tuple[TradeDeal, ...]:
        return await self._many(self.module.history_deals_get, date_from, date_to)

    async def last_error(self) -> tuple[int, str]:
        code, text = await self._call(self.module.last_error)
        return int(code), str(text)
