"""The `Broker` protocol: one trading account, in the MetaTrader5 API's own vocabulary.

Requests are MT5 trade-request dicts (`action`, `symbol`, `volume`, `type`, `price`, `sl`,
`tp`, `deviation`, `magic`, `comment`, `type_filling`, `position`, `order`...) and answers
are the MT5 record types of `brokers.mt5.records`, so the executor speaks one language to
a real terminal and to the simulator alike. The signatures are written here only:
`Mt5Broker` derives from the protocol (mypy checks it where it is defined) and a stand-in
that refuses everything reads the calls off this class.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

from brokers.errors import BrokerUnavailable
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
from model.tick import Tick
from streams.types import Command

__all__ = ["Broker", "BrokerUnavailable", "HeldBroker", "TradeRequest"]

T = TypeVar("T")

TradeRequest = dict[str, Any]


class Broker(Protocol):
    """An async view of one MT5 account. Blocking terminals run off the event loop."""

    async def connect(self) -> None: ...

    async def run(self, work: Callable[[Terminal], T]) -> T:
        """`work(terminal)`: many terminal calls at the cost of one (an order's execution)."""
        ...

    async def close(self) -> None: ...

    async def symbol_info(self, symbol: str) -> SymbolInfo | None: ...

    async def symbol_info_tick(self, symbol: str) -> Tick | None: ...

    async def order_check(self, request: TradeRequest) -> OrderCheckResult | None: ...

    async def order_send(self, request: TradeRequest) -> OrderSendResult | None: ...

    async def positions_get(
        self, symbol: str | None = None, ticket: int | None = None
    ) -> tuple[TradePosition, ...]: ...

    async def orders_get(
        self, symbol: str | None = None, ticket: int | None = None
    ) -> tuple[TradeOrder, ...]: ...

    async def history_orders_get(
        self, date_from: datetime, date_to: datetime
    ) -> tuple[TradeOrder, ...]: ...

    async def history_deals_get(
        self, date_from: datetime, date_to: datetime
    ) -> tuple[TradeDeal, ...]: ...

    async def account_info(self) -> AccountInfo | None: ...

    async def last_error(self) -> tuple[int, str]: ...


class HeldBroker(ABC):
    """A broker whose account its executor holds in memory and trades inline (the
    simulator): its trades' writes commit with the orders' results and acks, so they need
    no `sent` record before them, and a crash before that commit undoes them. A base class
    (not a protocol) so the executor tells one apart with a cheap `isinstance`.

    Per batch: `prepare` queues its reads on the batch's one pipeline (returns how many),
    `ready` takes their replies (loading the account again if someone else moved it),
    `trade` runs orders on the held account, `writes` hands over what to commit.
    """

    @abstractmethod
    def prepare(self, pipe: Any, symbols: set[str], orders: int) -> int: ...

    @abstractmethod
    async def ready(self, replies: list[Any]) -> None: ...

    @abstractmethod
    async def trade(self, work: Callable[[Terminal], T]) -> T: ...

    @abstractmethod
    def writes(self) -> list[Command]: ...

    @abstractmethod
    def forget(self) -> None:
        """Load the account again before the next trade (its commit may have failed)."""
