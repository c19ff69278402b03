"""`Terminal`: one MT5 terminal as the order path uses it, synchronously.

An order's whole execution (limits, prices, `order_check`, the sent record, `order_send`)
runs as one function of a `Terminal`: on the broker's thread for a real terminal, so an
order costs one thread hop however many calls it makes, and inline for the simulated
accounts an executor holds in memory, which make no I/O at all. What the module answers
is made safe to act on here: a failure (None with an error) raises `BrokerUnavailable`
instead of passing for an account with no positions, and symbol specifications, which do
not change within a session, are reused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from brokers.errors import BrokerUnavailable
from brokers.mt5 import constants as mt5
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
from model.tick import Tick

T = TypeVar("T")

SPEC_TTL = 60.0
"""Seconds a symbol's specification is reused before `symbol_info` asks the terminal again."""


class Terminal:
    """The MT5 functions of the order path over `module`, for one session named `name`."""

    def __init__(self, module: MT5Api, name: str) -> None:
        self.module = module
        self.name = name
        self._specs: dict[str, tuple[float, SymbolInfo]] = {}  # symbol → (when read, info)

    def forget(self) -> None:
        """A new session: specifications are read again."""
        self._specs.clear()

    def symbol_info(self, symbol: str) -> SymbolInfo | None:
        """The symbol's specification; it is added to Market Watch first if it is not there,
        since a terminal sends no prices for hidden symbols. Reused for `SPEC_TTL` seconds
        (its bid/ask are as old as the record: prices come from `symbol_info_tick`)."""
        now = time.monotonic()
        cached = self._specs.get(symbol)
        if cached is not None and now - cached[0] < SPEC_TTL:
            return cached[1]
        info = self.module.symbol_info(symbol)
        if info is not None and not info.visible:
            self.module.symbol_select(symbol, True)
        if info is not None:
            self._specs[symbol] = (now, info)
        return info

    def symbol_info_tick(self, symbol: str) -> Tick | None:
        return self.module.symbol_info_tick(symbol)

    def order_check(self, request: dict[str, Any]) -> OrderCheckResult | None:
        return self.module.order_check(request)

    def order_send(self, request: dict[str, Any]) -> OrderSendResult | None:
        return self.module.order_send(request)

    def account_info(self) -> AccountInfo | None:
        return self.module.account_info()

    def symbols(self) -> tuple[SymbolInfo, ...]:
        """Every symbol the account can trade, as full symbol_info records."""
        return self._many(self.module.symbols_get)

    def positions_get(
        self, symbol: str | None = None, ticket: int | None = None
    ) -> tuple[TradePosition, ...]:
        return self._many(self.module.positions_get, **_given(symbol=symbol, ticket=ticket))

    def orders_get(
        self, symbol: str | None = None, ticket: int | None = None
    ) -> tuple[TradeOrder, ...]:
        return self._many(self.module.orders_get, **_given(symbol=symbol, ticket=ticket))

    def history_orders_get(self, date_from: datetime, date_to: datetime) -> tuple[TradeOrder, ...]:
        return self._many(self.module.history_orders_get, date_from, date_to)

    def history_deals_get(self, date_from: datetime, date_to: datetime) -> tuple[TradeDeal, ...]:
        return self._many(self.module.history_deals_get, date_from, date_to)

    def position_deals(self, position: int) -> tuple[TradeDeal, ...]:
        """The deals of one position (its identifier), whenever they were made."""
        return self._many(self.module.history_deals_get, position=position)

    def last_error(self) -> tuple[int, str]:
        code, text = self.module.last_error()
        return int(code), str(text)

    def _many(
        self, fn: Callable[..., tuple[T, ...] | None], *args: Any, **kw: Any
    ) -> tuple[T, ...]:
        """MT5 answers None on failure, and `()` when there is nothing: keep them apart, so
        an unreachable terminal never looks like an account without positions."""
        found = fn(*args, **kw)
        if found is not None:
            return tuple(found)
        code, text = self.last_error()
        if code == mt5.RES_S_OK:
            return ()
        raise BrokerUnavailable(f"{self.name}: {fn.__name__} failed ({code}, {text})")


def _given(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}
