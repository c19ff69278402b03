"""The simulated trade server's loop for one request or tick: load, compute, commit, retry.

`TradeServer.send` runs a request against a fresh snapshot of the account and commits all its
effects in one transaction; when another terminal or the tick worker committed first, it
reloads and recomputes (up to `retries` times, then 10028 LOCKED). A market order costs two
round trips (snapshot with quotes, commit), three when positions on other symbols need quotes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import orjson
import redis

from brokers.mt5 import constants as mt5
from brokers.mt5.records import TradeDeal, TradeRequest
from brokers.sim.book import Book, Summary
from brokers.sim.booking import Execution
from brokers.sim.checks import Reject
from brokers.sim.matching import Levels, crossed
from brokers.sim.store import (
    COMMIT,
    PRICED,
    AccountKeys,
    Conflict,
    commit,
    dry_tickets,
    fetch_ticks,
    load,
    writes,
)
from brokers.sim.swaps import charge_due
from brokers.sim.symbols import SymbolTable
from brokers.sim.trading import execute
from brokers.sim.triggers import apply_tick
from model.tick import Tick

TICKETS = {mt5.TRADE_ACTION_DEAL: 2, mt5.TRADE_ACTION_PENDING: 1, mt5.TRADE_ACTION_CLOSE_BY: 3}


class Answer(NamedTuple):
    """How the server answered: an execution or a refusal, with the quote and account it saw."""

    retcode: int
    execution: Execution | None
    detail: str
    tick: Tick | None
    summary: Summary | None


class TradeServer:
    """Trading on accounts kept in Redis; one instance may serve any number of logins."""

    def __init__(
        self, client: redis.Redis, prefix: str, symbols: SymbolTable, retries: int = 50
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.symbols = symbols
        self.retries = retries
        self._script = client.register_script(COMMIT)

    def keys(self, login: int) -> AccountKeys:
        return AccountKeys(self.prefix, login)

    def _quotes(self, symbol: str, currency: str) -> Iterable[str]:
        return self.symbols.quote_symbols(symbol, currency) if symbol in self.symbols else ()

    def quotes(self, symbols: set[str]) -> dict[str, Tick]:
        """The latest valid tick of each symbol that has one (one round trip)."""
        found: dict[str, Tick] = {}
        fetch_ticks(self.client, self.prefix, symbols, found, self.symbols)
        return found

    def snapshot(self, login: int, currency: str, symbol: str = "") -> Book:
        """The account with quotes for its positions (and for `symbol`), read-only."""
        quotes = self._quotes(symbol, currency)
        return load(self.client, self.keys(login), self.symbols, quotes, market=symbol or None)

    def check(self, login: int, currency: str, req: TradeRequest, now_ms: int) -> Answer:
        """What `order_send` would do, computed on a snapshot and never written."""
        book = self.snapshot(login, currency, req.symbol)
        book.next_ticket = dry_tickets()
        tick = book.ticks.get(req.symbol)
        before = book.summary()
        try:
            execution = execute(book, req, now_ms)
        except Reject as reject:
            return Answer(reject.retcode, None, reject.detail, tick, before)
        return Answer(0, execution, "", tick, book.summary())

    def send(self, login: int, currency: str, req: TradeRequest, now_ms: int) -> Answer:
        """Execute `req` on the account atomically; the answer carries MT5's retcode."""
        keys = self.keys(login)
        for _ in range(self.retries):
            book = load(
                self.client,
                keys,
                self.symbols,
                self._quotes(req.symbol, currency),
                tickets=TICKETS.get(req.action, 0),
                market=req.symbol,
            )
            tick = book.ticks.get(req.symbol)
            if not book.account.connected:
                detail = "the trade server is unreachable"
                return Answer(mt5.TRADE_RETCODE_CONNECTION, None, detail, tick, None)
            charge_due(book, now_ms)  # a rollover passed since the last tick: its swaps first
            try:
                execution = execute(book, req, now_ms)
            except Reject as reject:
                return Answer(reject.retcode, None, reject.detail, tick, None)
            try:
                commit(self._script, keys, book.account.version, writes(book, keys))
            except Conflict:
                continue
            return Answer(execution.retcode, execution, "", tick, None)
        detail = f"account {login} stayed busy for {self.retries} attempts"
        return Answer(mt5.TRADE_RETCODE_LOCKED, None, detail, None, None)

    def tick(
        self, login: int, currency: str, symbol: str, tick: Tick, now_ms: int
    ) -> list[TradeDeal]:
        """Apply one tick to the account: swaps of a rollover passed, triggers, expiries,
        SL/TP, stop-out. The deals it caused.

        One HMGET when the tick crosses none of the account's levels on `symbol` and prices
        none of its positions; otherwise a full load, the matching, the valuation, and a
        commit when anything changed.
        """
        keys = self.keys(login)
        raw, priced = self.client.hmget(keys.watch, [symbol, PRICED])
        hit = raw is not None and crossed(Levels(*orjson.loads(raw)), tick, now_ms / 1000)
        if not hit and (priced is None or symbol not in orjson.loads(priced)):
            return []
        for _ in range(self.retries):
            book = load(
                self.client,
                keys,
                self.symbols,
                self._quotes(symbol, currency),
                tickets=4,
                ticks={symbol: tick},
            )
            deals = apply_tick(book, symbol, tick, now_ms)
            if not book.changed:
                return []
            try:
                commit(self._script, keys, book.account.version, writes(book, keys))
            except Conflict:
                continue
            return deals
        return []
