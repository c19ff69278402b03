"""`SimMarket`: what the simulated accounts an executor process holds share, read once a batch.

The latest quote of every symbol they need (by the names their brokers give them: one
account's EURUSD.m and another's EURUSD both read ticks:EURUSD), the closed markets and a pool
of ticket numbers come in the same pipelined read as the batch's order records, queued once
however many accounts ask (`queue` remembers what the pipeline already holds).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from typing import Any

import redis
from redis.asyncio import Redis

from brokers.sim.store import AccountKeys, queue_account
from model.keys import Keys
from model.tick import LOOK_BACK, Tick, newest_tick

TICKET_BLOCK = 256
"""Ticket numbers reserved at a time; ones a crash leaves unused are gaps, as MT5 has too."""


class SimMarket:
    """Quotes, closed markets and tickets, shared by reference with every held account's Book
    (so one refresh reprices them all). `redis` is the asyncio client of the batch reads,
    `sync` a client for the rare ticket reservation in the middle of a batch."""

    def __init__(self, redis: Redis, sync: redis.Redis, prefix: str) -> None:
        self.redis = redis
        self.sync = sync
        self.keys = Keys(prefix)
        self.ticks: dict[str, Tick] = {}
        self.streams: dict[str, str] = {}  # a broker's name → the symbol whose ticks quote it
        self.closed: set[str] = set()
        self._pool: Iterator[int] = iter(())
        self._left = 0
        self._round: object = None
        self._queued: set[str] = set()
        self._loading: list[tuple[AccountKeys, asyncio.Future[list[Any]]]] = []
        self._reading: asyncio.Task[None] | None = None

    async def close(self) -> None:
        """Close both clients (for a market its opener owns, not one shared by a worker)."""
        await self.redis.aclose()
        self.sync.close()

    def queue(self, pipe: Any, symbols: Iterable[str], tickets: int) -> list[str]:
        """Queue on `pipe` what it does not hold yet: the newest ticks of `symbols`, and once
        per pipeline the closed markets and, if fewer than `tickets` are left, a new block of
        ticket numbers. Returns the symbols queued, in order: `absorb` takes their replies."""
        queued: list[str] = []
        if pipe is not self._round:
            self._round, self._queued = pipe, set()
            pipe.smembers(self.keys.sim_closed)
            queued.append("@closed")
            if self._left < tickets:
                pipe.incrby(self.keys.sim_tickets, TICKET_BLOCK)
                queued.append("@tickets")
        for symbol in dict.fromkeys(symbols):
            if symbol not in self._queued:
                self._queued.add(symbol)
                pipe.xrevrange(self.keys.ticks(self._stream(symbol)), count=LOOK_BACK)
                queued.append(symbol)
        return queued

    def absorb(self, queued: Sequence[str], replies: Sequence[Any]) -> None:
        """Take the replies of what `queue` queued."""
        for name, reply in zip(queued, replies, strict=True):
            if name == "@closed":
                self.closed = {m.decode() if isinstance(m, bytes) else m for m in reply}
            elif name == "@tickets":
                self._reserved(int(reply))
            else:
                tick = newest_tick(reply)
                if tick is not None:
                    self.ticks[name] = tick

    async def read_account(self, keys: AccountKeys) -> list[Any]:
        """The replies of `queue_account` for one account; every account asking in the same
        turn of the event loop (a batch loading a thousand) is read in one transaction."""
        answer: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._loading.append((keys, answer))
        if self._reading is None or self._reading.done():
            self._reading = asyncio.create_task(self._read_accounts())
        return await answer

    async def _read_accounts(self) -> None:
        """Until no account waits: one transaction for all that asked since the last one
        (an account asking while a transaction is on its way waits for the next)."""
        while self._loading:
            loading, self._loading = self._loading, []
            pipe = self.redis.pipeline(transaction=True)
            for keys, _ in loading:
                queue_account(pipe, keys)
            try:
                replies = await pipe.execute()
            except Exception as error:
                for _, answer in loading:
                    answer.set_exception(error)
                continue
            for n, (_, answer) in enumerate(loading):
                answer.set_result(replies[3 * n : 3 * n + 3])

    async def fetch(self, symbols: Iterable[str]) -> None:
        """The newest ticks of `symbols` missing from the quotes (an account just loaded holds
        positions there): one round trip, none when nothing is missing."""
        missing = [s for s in dict.fromkeys(symbols) if s not in self.ticks]
        if missing:
            pipe = self.redis.pipeline(transaction=False)
            for symbol in missing:
                pipe.xrevrange(self.keys.ticks(self._stream(symbol)), count=LOOK_BACK)
            self.absorb(missing, await pipe.execute())

    def _stream(self, symbol: str) -> str:
        return self.streams.get(symbol, symbol)

    def next_ticket(self) -> int:
        """A new ticket number: from the pool, or a block reserved now (a batch larger than
        its reservation; the only read a held account makes while it trades)."""
        ticket = next(self._pool, None)
        if ticket is None:
            self._reserved(int(self.sync.incrby(self.keys.sim_tickets, TICKET_BLOCK)))
            ticket = next(self._pool)
        self._left -= 1
        return ticket

    def _reserved(self, last: int) -> None:
        """The block ending at `last` (INCRBY's answer) is ours, after what is left."""
        self._pool = chain(self._pool, range(last - TICKET_BLOCK + 1, last + 1))
        self._left += TICKET_BLOCK
