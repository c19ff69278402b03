"""`HeldServer`: the trade server of one simulated account that its executor holds in memory.

The executor is the account's only trader (the tick worker only moves it on a trigger), so
instead of loading the account from Redis for every check and send and committing each
trade on its own, the account is loaded once and traded in memory: a trade is tried on a
fork of the book and adopted when it is done. What changed is written with the executor's
commit, in the same transaction as the orders' results and acks, behind an `EXPECT` of the
version the book was read at; a version moved by anyone else (the tick worker, an operator)
sends the batch around again on a freshly loaded book. A crash loses nothing: what was not
committed never happened.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import redis

from brokers.mt5 import constants as mt5
from brokers.mt5.records import TradeRequest
from brokers.sim.book import Book
from brokers.sim.booking import Execution
from brokers.sim.checks import Reject
from brokers.sim.engine import Answer, TradeServer
from brokers.sim.market import SimMarket
from brokers.sim.store import AccountMissing, parse_book, writes
from brokers.sim.symbols import SymbolTable
from brokers.sim.trading import execute
from model.tick import Tick
from streams.types import Command

UNREACHABLE = "the trade server is unreachable"


class Checked(NamedTuple):
    """A checked request, the book it was checked `on` and the fork it leaves."""

    request: TradeRequest
    on: Book
    book: Book
    execution: Execution


class HeldServer(TradeServer):
    """One login's account in memory, answering the simulator's terminal (`SimTerminal`)."""

    def __init__(
        self, client: redis.Redis, prefix: str, symbols: SymbolTable, login: int, market: SimMarket
    ) -> None:
        super().__init__(client, prefix, symbols)
        self.login = login
        self.market = market
        self.account = self.keys(login)
        self.book: Book | None = None
        self.version = -1  # the version the book stands on; -1: load it
        self.connected = True
        self._checked: Checked | None = None

    # -- the batch's read and write -------------------------------------------------------

    def queue(self, pipe: Any, symbols: set[str], orders: int) -> list[str]:
        """Queue this account's reads on the batch's pipeline: its version and link, and
        the quotes of `symbols` and of everything it holds. Returns what `absorb` takes."""
        pipe.hmget(self.account.account, "version", "connected")
        wanted = self._quoted(self.book, symbols) if self.book is not None else symbols
        return ["@account", *self.market.queue(pipe, sorted(wanted), orders * 4)]

    async def absorb(self, queued: list[str], replies: list[Any]) -> None:
        """Take the replies; load the account again if anyone else moved it."""
        version, connected = replies[0]
        self.market.absorb(queued[1:], replies[1:])
        if version is None:
            raise AccountMissing(f"simulated account {self.login} does not exist")
        self.connected = connected != b"0"
        if self.book is None or int(version) != self.version:
            await self.load()

    async def load(self) -> None:
        """The account as one consistent snapshot (read with the other accounts loading
        now, and once more for quotes of symbols it holds that the market lacks)."""
        replies = await self.market.read_account(self.account)
        book = parse_book(self.account, replies, self.symbols, self.market.ticks, self._ticket)
        held = {p.symbol for p in book.positions.values()} | {
            o.symbol for o in book.orders.values()
        }
        await self.market.fetch(
            q for s in held for q in self.symbols.quote_symbols(s, book.currency)
        )
        self.book, self.version = book, book.account.version
        self.connected = book.account.connected

    def writes(self) -> list[Command]:
        """The commands that make this batch's trades durable, for the executor's commit:
        nothing unless something changed, else the changes behind an EXPECT of the version
        the book stands on, and the version's bump."""
        book = self.book
        if book is None or not book.changed:
            return []
        key = self.account.account
        ops: list[Command] = [("EXPECT", key, "version", str(self.version))]
        ops += [tuple(op) for op in writes(book, self.account)]
        ops.append(("HINCRBY", key, "version", 1))
        book.settle()
        self.version += 1  # what the account holds once the commit is in
        return ops

    def _quoted(self, book: Book, symbols: set[str]) -> set[str]:
        """The symbols whose quotes price `symbols` and what the book holds, in its money."""
        wanted = symbols | {p.symbol for p in book.positions.values()}
        wanted |= {o.symbol for o in book.orders.values()}
        return {q for s in wanted for q in self.symbols.quote_symbols(s, book.currency)}

    def forget(self) -> None:
        """Load the account again before the next trade (a new session, a failed commit)."""
        self.book, self.version = None, -1

    # -- the trade server, for SimTerminal --------------------------------------------------

    def held(self) -> Book:
        if self.book is None:
            raise AccountMissing(f"simulated account {self.login} is not loaded")
        return self.book

    def quotes(self, symbols: set[str]) -> dict[str, Tick]:
        ticks = self.market.ticks
        return {s: ticks[s] for s in symbols if s in ticks}

    def snapshot(self, login: int, currency: str, symbol: str = "") -> Book:
        return self.held()

    def check(self, login: int, currency: str, req: TradeRequest, now_ms: int) -> Answer:
        """The trade tried on a fork; kept, so the `send` of the same request that follows
        on the same book adopts it instead of computing it again."""
        self._checked = None
        book = self._fork(req.symbol)
        tick = book.ticks.get(req.symbol)
        try:
            execution = execute(book, req, now_ms)
        except Reject as reject:
            return Answer(reject.retcode, None, reject.detail, tick, self.held().summary())
        self._checked = Checked(req, self.held(), book, execution)
        return Answer(0, execution, "", tick, book.summary())

    def send(self, login: int, currency: str, req: TradeRequest, now_ms: int) -> Answer:
        checked, self._checked = self._checked, None
        if checked is not None and checked.request == req and checked.on is self.book:
            book, execution = checked.book, checked.execution
        else:
            book = self._fork(req.symbol)
            try:
                execution = execute(book, req, now_ms)
            except Reject as reject:
                return Answer(reject.retcode, None, reject.detail, book.ticks.get(req.symbol), None)
        tick = book.ticks.get(req.symbol)
        if not self.connected:
            return Answer(mt5.TRADE_RETCODE_CONNECTION, None, UNREACHABLE, tick, None)
        self.book = book
        return Answer(execution.retcode, execution, "", tick, None)

    def _fork(self, symbol: str) -> Book:
        book = self.held().fork()
        book.next_ticket = self._ticket
        book.market_open = self.symbols.stream(symbol) not in self.market.closed
        return book

    def _ticket(self) -> int:
        return self.market.next_ticket()
