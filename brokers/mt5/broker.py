"""`Mt5Broker`: the async Broker protocol over any module with the MetaTrader5 API.

The real `MetaTrader5` package, an mt5linux client and the simulator's `SimTerminal` all
fit, so the executor runs the same code against each. Calls are blocking (IPC to the
terminal), so they run on one thread per broker, which also serializes them as a terminal
requires.
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
    Tick,
    TradeDeal,
    TradeOrder,
    TradePosition,
)
from brokers.types import BrokerUnavailable, TradeRequest

T = TypeVar("T")


class Mt5Broker:
    """One terminal session. `connect()` raises BrokerUnavailable with MT5's last error."""

    def __init__(self, module: MT5Api, name: str = "mt5", **login: Any) -> None:
        self.module = module
        self.name = name
        self.login = login
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"broker-{name}")

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, partial(fn, *args, **kwargs))

    async def connect(self) -> None:
        if not await self._call(self.module.initialize, **self.login):
            code, text = await self.last_error()
            raise BrokerUnavailable(f"{self.name}: initialize failed ({code}, {text})")

    async def close(self) -> None:
        try:
            await self._call(self.module.shutdown)
        finally:
            self._thread.shutdown(wait=False)

    async def symbols(self) -> tuple[SymbolInfo, ...]:
        """Every symbol the account can trade, as full symbol_info records."""
        names = await self._call(self.module.symbols_get) or ()
        infos = [await self.symbol_info(s.name) for s in names]
        return tuple(i for i in infos if i is not None)

    async def symbol_info(self, symbol: str) -> SymbolInfo | None:
        return await self._call(self.module.symbol_info, symbol)

    async def symbol_info_tick(self, symbol: str) -> Tick | None:
        return await self._call(self.module.symbol_info_tick, symbol)

    async def order_check(self, request: TradeRequest) -> OrderCheckResult | None:
        return await self._call(self.module.order_check, request)

    async def order_send(self, request: TradeRequest) -> OrderSendResult | None:
        return await self._call(self.module.order_send, request)

    async def positions_get(
        self, symbol: str | None = None, ticket: int | None = None
    ) -> tuple[TradePosition, ...]:
        kwargs = {k: v for k, v in (("symbol", symbol), ("ticket", ticket)) if v is not None}
        return tuple(await self._call(self.module.positions_get, **kwargs) or ())

    async def orders_get(
        self, symbol: str | None = None, ticket: int | None = None
    ) -> tuple[TradeOrder, ...]:
        kwargs = {k: v for k, v in (("symbol", symbol), ("ticket", ticket)) if v is not None}
        return tuple(await self._call(self.module.orders_get, **kwargs) or ())

    async def history_orders_get(
        self, date_from: datetime, date_to: datetime
    ) -> tuple[TradeOrder, ...]:
        return tuple(await self._call(self.module.history_orders_get, date_from, date_to) or ())

    async def history_deals_get(
        self, date_from: datetime, date_to: datetime
    ) -> tuple[TradeDeal, ...]:
        return tuple(await self._call(self.module.history_deals_get, date_from, date_to) or ())

    async def account_info(self) -> AccountInfo | None:
        return await self._call(self.module.account_info)

    async def last_error(self) -> tuple[int, str]:
        code, text = await self._call(self.module.last_error)
        return int(code), str(text)
