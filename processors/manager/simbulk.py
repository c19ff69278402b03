"""Simulated accounts read in bulk: every hosted sim instance's state in one round trip.

A real terminal is asked account by account (one terminal per process); the simulator's
accounts all live in one Redis, like a broker's back office, so the manager reads the
accounts it hosts together: one pipelined read of every account, one of the prices their
positions need. The states equal what `account_info`/`positions_get`/`orders_get` answer
(the tests compare them), at a fraction of the cost — what lets one process sync 1,000
simulated instances every 500 ms.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson

from brokers.mt5.records import TradeOrder, TradePosition
from brokers.sim.book import Book
from brokers.sim.store import AccountKeys, AccountMissing, dry_tickets, parse_account
from brokers.sim.symbols import SymbolTable, default_symbols
from model import AccountState
from model.keys import Keys
from model.tick import LOOK_BACK, Tick, newest_tick
from processors.manager.state_sync import account_state
from streams.clients import async_client, is_cluster

READ_HASHES = """
local out = {}
for i = 1, #KEYS do out[i] = redis.call('HGETALL', KEYS[i]) end
return out
"""
"""Every account, positions and orders hash in one command: flat [field, value, ...] lists
(Redis keeps a hash's order while it is unchanged, so equal lists mean equal hashes)."""

Answer = AccountState | Exception
"""An instance's state, or why it could not be read (as its terminal would fail)."""


class SimAccounts:
    """Reads simulated accounts kept under `prefix` in the Redis at `url`."""

    def __init__(self, url: str, prefix: str, symbols: SymbolTable | None = None) -> None:
        self.client = async_client(url)
        self.cluster = is_cluster(url)  # accounts on many slots: no script across them
        self.prefix = prefix
        self.symbols = symbols or default_symbols()
        self._flat: dict[str, tuple[list[Any], AccountState]] = {}  # unchanged, no positions
        self._script = self.client.register_script(READ_HASHES)

    async def read(self, logins: Mapping[str, int]) -> dict[str, Answer]:
        """instance → its state now (or the error), for `logins` (instance → login)."""
        keys = []
        for login in logins.values():
            account = AccountKeys(self.prefix, login)
            keys += [account.account, account.positions, account.orders]
        replies = await self._hashes(keys)
        now = time.time()
        answers: dict[str, Answer] = {}
        books: dict[str, tuple[list[Any], Book | Exception]] = {}
        for n, (instance, login) in enumerate(logins.items()):
            raw = replies[3 * n : 3 * n + 3]
            flat = self._flat.get(instance)
            if flat is not None and flat[0] == raw:  # nothing changed, nothing to value
                answers[instance] = flat[1].model_copy(update={"ts": now})
            else:
                books[instance] = (raw, self._book(login, raw))
        ticks = await self._ticks([b for _, b in books.values() if isinstance(b, Book)])
        for instance, (raw, book) in books.items():
            self._flat.pop(instance, None)
            if isinstance(book, Exception):
                answers[instance] = book
                continue
            book.ticks = ticks
            try:
                answers[instance] = state = _state(instance, book, now)
            except Exception as error:  # a corrupt record: the terminal would raise too
                answers[instance] = error
                continue
            if not book.positions:  # its equity cannot move with prices
                self._flat[instance] = (raw, state)
        return answers

    def _book(self, login: int, replies: list[Any]) -> Book | Exception:
        """The account as the terminal would load it; an error where it would raise."""
        raw_account, raw_positions, raw_orders = (_pairs(r) for r in replies)
        if not raw_account:
            return AccountMissing(f"simulated account {login} does not exist")
        try:
            return Book(
                account=parse_account(raw_account),
                positions={
                    int(k): TradePosition(*orjson.loads(v)) for k, v in raw_positions.items()
                },
                orders={int(k): TradeOrder(*orjson.loads(v)) for k, v in raw_orders.items()},
                symbols=self.symbols,
                ticks={},
                next_ticket=dry_tickets(),
            )
        except Exception as error:
            return error

    async def _hashes(self, keys: list[str]) -> list[Any]:
        """Each hash as a flat [field, value, ...] list: one script call, or a pipeline
        on a cluster."""
        if not self.cluster:
            replies: list[Any] = await self._script(keys=keys)
            return replies
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        return [[x for pair in found.items() for x in pair] for found in await pipe.execute()]

    async def _ticks(self, books: list[Book]) -> dict[str, Tick]:
        """The latest tick of every symbol the open positions need (one round trip)."""
        wanted = sorted(
            {
                quote
                for book in books
                for p in book.positions.values()
                for quote in self.symbols.quote_symbols(p.symbol, book.account.currency)
            }
        )
        if not wanted:
            return {}
        pipe = self.client.pipeline(transaction=False)
        for symbol in wanted:
            pipe.xrevrange(Keys(self.prefix).ticks(symbol), count=LOOK_BACK)
        found = {}
        for symbol, reply in zip(wanted, await pipe.execute(), strict=True):
            tick = newest_tick(reply)
            if tick is not None:
                found[symbol] = tick
        return found

    async def close(self) -> None:
        await self.client.aclose()


def _state(instance: str, book: Book, now: float) -> AccountState:
    account = book.account
    positions = [book.valued(p) for p in sorted(book.positions.values(), key=lambda p: p.ticket)]
    orders = sorted(book.orders.values(), key=lambda o: o.ticket)
    return account_state(
        instance, account.login, account.currency, book.summary(), positions, orders, now
    )


def _pairs(flat: list[bytes]) -> dict[bytes, bytes]:
    return dict(zip(flat[::2], flat[1::2], strict=True))
