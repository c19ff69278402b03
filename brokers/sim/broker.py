"""`SimBroker`: a `sim://` session, its account held in memory by the executor that trades it.

Everything but the executor's trading (reconciliation, symbols, `eaflow instance check`)
goes through the protocol's calls, which read the simulator's Redis on the broker's thread
as any terminal reads its server. The executor's orders run on the held account instead
(`brokers.sim.held`): inline, no thread and no I/O, refreshed by the batch's one read and
written by its one commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import redis
from redis.exceptions import RedisError

from brokers.errors import BrokerUnavailable
from brokers.mt5.broker import Mt5Broker
from brokers.mt5.terminal import Terminal
from brokers.sim.held import HeldServer
from brokers.sim.market import SimMarket
from brokers.sim.store import AccountMissing
from brokers.sim.symbols import SymbolTable
from brokers.sim.terminal import SERVER, SimTerminal
from brokers.types import HeldBroker
from streams.types import Command

T = TypeVar("T")


class SimBroker(Mt5Broker, HeldBroker):
    """One simulated account: `login` on the simulator under `prefix`."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        login: int,
        name: str,
        market: SimMarket,
        owns_market: bool = False,
        symbols: SymbolTable | None = None,
    ) -> None:
        """`symbols`: the symbols as the broker names them (`broker_symbols`); by default the
        bundled ones."""
        terminal = SimTerminal(client, prefix=prefix, symbols=symbols)
        market.streams.update(terminal.symbols.streams)
        super().__init__(terminal, name=name, login=login, server=SERVER)
        self.held = HeldServer(client, prefix, terminal.symbols, login, market)
        self._held = SimTerminal(client, prefix=prefix, symbols=terminal.symbols, server=self.held)
        self._trading = Terminal(self._held, name)
        self._queued: list[str] = []
        self._owns_market = owns_market

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            if self._owns_market:
                await self.held.market.close()

    async def connect(self) -> None:
        """Connect the terminal, then load the account to hold (trading needs both)."""
        await super().connect()
        if not await self._call(self._held.login, self.held.login):
            code, text = self._held.last_error()
            raise BrokerUnavailable(f"{self.name}: login failed ({code}, {text})")
        try:
            await self.held.load()
        except (AccountMissing, RedisError) as error:
            raise BrokerUnavailable(f"{self.name}: {error}") from error

    def prepare(self, pipe: Any, symbols: set[str], orders: int) -> int:
        self._queued = self.held.queue(pipe, symbols, orders)
        return len(self._queued)

    async def ready(self, replies: list[Any]) -> None:
        try:
            await self.held.absorb(self._queued, replies)
        except AccountMissing as error:
            raise BrokerUnavailable(f"{self.name}: {error}") from error

    async def trade(self, work: Callable[[Terminal], T]) -> T:
        return work(self._trading)

    def writes(self) -> list[Command]:
        return self.held.writes()

    def forget(self) -> None:
        self.held.forget()
