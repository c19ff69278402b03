"""The broker of a stopped instance: every call is refused as unavailable.

The executor treats an unavailable broker as "wait and retry": an order sent before the
stop is looked up again after the restart, an unsent one fails after its time to live,
and nothing reaches the account meanwhile.
"""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn

from brokers.mt5.records import (
    AccountInfo,
    OrderCheckResult,
    OrderSendResult,
    SymbolInfo,
    TradeDeal,
    TradeOrder,
    TradePosition,
)
from brokers.types import BrokerUnavailable, TradeRequest
from model.tick import Tick


class StoppedBroker:
    """Stands in for an instance's broker while an operator has it stopped."""

    def __init__(self, instance: str) -> None:
        self.instance = instance

    def _refuse(self) -> NoReturn:
        raise BrokerUnavailable(f"instance {self.instance} is stopped (eaflow instances start)")

    async def connect(self) -> None:
        self._refuse()

    async def close(self) -> None:
        return None

    async def symbol_info(self, symbol: str) -> SymbolInfo | None:
        self._refuse()

    async def symbol_info_tick(self, symbol: str) -> Tick | None:
        self._refuse()

    async def order_check(self, request: TradeRequest) -> OrderCheckResult | None:
        self._refuse()

    async def order_send(self, request: TradeRequest) -> OrderSendResult | None:
        self._refuse()

    async def positions_get(
        self, symbol: str | None = None, ticket: int | None = None
    ) -> tuple[TradePosition, ...]:
        self._refuse()

    async def orders_get(
        self, symbol: str | None = None, ticket: int | None = None
    ) -> tuple[TradeOrder, ...]:
        self._refuse()

    async def history_orders_get(
        self, date_from: datetime, date_to: datetime
    ) -> tuple[TradeOrder, ...]:
        self._refuse()

    async def history_deals_get(
        self, date_from: datetime, date_to: datetime
    ) -> tuple[TradeDeal, ...]:
        self._refuse()

    async def account_info(self) -> AccountInfo | None:
        self._refuse()

    async def last_error(self) -> tuple[int, str]:
        return (-10004, f"instance {self.instance} is stopped")
