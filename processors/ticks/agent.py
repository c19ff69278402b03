"""The `ticks` agent: feeds the tick table and drives accounts with every tick, in order.

It reads every `ticks:{symbol}` stream as consumer group `ticks`, in batches of undecoded
columns (`batch="columns"`, decoded here in bulk): each batch updates the table's rings
(only symbols somebody needs are buffered) and runs through each hosted account (simulator
fills, SL/TP, trailing), whose results go to `rtrs` in the same commit as the batch's acks.
Timers keep the set of needed symbols current and log the flow.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping, Sequence

import orjson
import structlog
from redis.asyncio import Redis

from brokers.mt5.records import AccountInfo
from model import Result, TrailingStop
from model.keys import Keys
from model.tick import Tick
from model.topics import Topics
from processors.ticks.accounts import Holdings, TickAccount
from streams import Columns, Outbox
from streams.dlq import dead_letter, dlq_key
from streams.reader import text
from streams.ring import Ticks, tick_array
from streams.table import Row, TickFieldError, TickTable, row_of, ticks_of
from streams.types import Command

log = structlog.get_logger(__name__)

GROUP = "ticks"
"""The agent's consumer group on every `ticks:{symbol}` stream."""

Dead = tuple[str, bytes, str]
"""A payload to dead-letter: its entry id, its bytes and why."""

FORGET_AFTER = 86_400.0
"""Seconds an alert's trailing stop is kept without a position or order carrying its
comment: the order may still be on its way, or have been refused."""


async def subscribe(redis: Redis, prefix: str, symbol: str, seconds: float = 60.0) -> None:
    """Ask every ticks worker to buffer `symbol` for `seconds` more (a chart renews it)."""
    await redis.zadd(Keys(prefix).tick_subscriptions, {symbol: time.time() + seconds})


async def subscribed(redis: Redis, prefix: str) -> set[str]:
    """Symbols whose subscription has not lapsed; lapsed ones are removed."""
    key, now = Keys(prefix).tick_subscriptions, time.time()
    pipe = redis.pipeline(transaction=False)
    pipe.zremrangebyscore(key, "-inf", now)
    pipe.zrangebyscore(key, now, "+inf")
    _, members = await pipe.execute()
    return {m.decode() if isinstance(m, bytes) else str(m) for m in members}


def tick_of(row: Row) -> Tick:
    msc, bid, ask, last, volume, flags = row
    return Tick(msc // 1000, bid, ask, last, int(volume), msc, flags, volume)


class TickAgent:
    """Handles tick batches; `accounts` are the instances whose ticks run here."""

    def __init__(
        self,
        topics: Topics,
        table: TickTable,
        accounts: Mapping[str, TickAccount] | None = None,
        always: frozenset[str] = frozenset(),
    ) -> None:
        self.topics = topics
        self.table = table
        self.accounts: dict[str, TickAccount] = dict(accounts or {})
        self.always = always
        self.stream_prefix = topics.keys.ticks("")
        self.seen: Counter[str] = Counter()
        self._reported: Counter[str] = Counter()
        self._reported_at = time.monotonic()

    def symbol_of(self, stream: str) -> str:
        return stream[len(self.stream_prefix) :]

    async def handle(self, columns: Mapping[str, Columns], out: Outbox) -> None:
        """One batch: table first, then every account, results committed with the acks.
        A symbol nobody buffers or trades is only counted, never decoded."""
        batches: dict[str, tuple[Sequence[str | bytes], Ticks]] = {}
        for stream, found in columns.items():
            symbol = self.symbol_of(stream)
            if not self.accounts and symbol not in self.table:
                self.seen[symbol] += len(found)
                continue
            ids, ticks, dead = self.decode(stream, found)
            for entry_id, raw, error in dead:  # with the batch's acks, in its commit
                command, *args = self.dead_letter(stream, entry_id, raw, error)
                out.call(str(command), *args)
            batches[symbol] = (ids, ticks)
            self.seen[symbol] += len(ticks)
        for symbol, (ids, ticks) in batches.items():
            self.table.extend(symbol, ids, ticks)
        if not self.accounts:
            return
        rows = {s: [tick_of(r) for r in ticks.tolist()] for s, (_, ticks) in batches.items()}
        runs = [asyncio.to_thread(self._run, a, rows) for a in self.accounts.values()]
        for results in await asyncio.gather(*runs):
            for result in results:
                out.send(self.topics.rtrs, result)

    @staticmethod
    def decode(stream: str, found: Columns) -> tuple[Sequence[str | bytes], Ticks, list[Dead]]:
        """A stream's payloads as ring records, with their ids: all at once, or, when any
        is not a tick as `TickWriter` writes it, one by one: a tick with a bad field is
        logged and skipped (ticks purge themselves), a payload that is not JSON returned
        with its error, to be dead-lettered as the runtime's decoding would."""
        ticks = ticks_of(found.data)
        if ticks is not None:
            return found.ids, ticks, []
        ids: list[str | bytes] = []
        rows: list[Row] = []
        dead: list[Dead] = []
        for entry_id, data in zip(found.ids, found.data, strict=True):
            try:
                rows.append(row_of(orjson.loads(data)))
            except orjson.JSONDecodeError as error:
                dead.append((text(entry_id), data, f"d: is not valid JSON ({error})"))
                continue
            except (TickFieldError, AttributeError) as error:
                log.warning("ticks.bad_tick", stream=stream, id=text(entry_id), error=str(error))
                continue
            ids.append(entry_id)
        return ids, tick_array(rows), dead

    def dead_letter(self, stream: str, entry_id: str, raw: bytes, error: str) -> Command:
        """The dead letter of a payload that is not JSON, as the runtime writes one."""
        topic = stream[len(self.topics.prefix) :]
        dlq = dlq_key(self.topics.prefix, topic)
        return dead_letter(
            dlq, stream=stream, group=GROUP, entry_id=entry_id, raw=raw, error=error, deliveries=1
        )

    @staticmethod
    def _run(account: TickAccount, ticks: Mapping[str, list[Tick]]) -> list[Result]:
        """All symbols of a batch through one account; a failing account is logged and
        skipped so it never stalls the ticks of the others."""
        results: list[Result] = []
        for symbol, batch in ticks.items():
            try:
                results += account.apply(symbol, batch)
            except Exception as error:
                log.exception("ticks.account_failed", instance=account.instance, error=str(error))
        return results

    async def holdings(self) -> dict[str, Holdings]:
        """What each account holds, read once per refresh; an account that fails is logged
        and left out (its symbols are not added, its alerts' trailing stops stay as they are)."""
        names = list(self.accounts)
        found = await asyncio.gather(
            *(asyncio.to_thread(self.accounts[n].holdings) for n in names),
            return_exceptions=True,
        )
        holdings: dict[str, Holdings] = {}
        for name, held in zip(names, found, strict=True):
            if isinstance(held, BaseException):
                log.warning("ticks.holdings_failed", instance=name, error=str(held))
            else:
                holdings[name] = held
        return holdings

    async def needed(self, holdings: Mapping[str, Holdings]) -> set[str]:
        """Symbols to buffer: subscribed, held by an account, or always wanted."""
        wanted = set(self.always) | await subscribed(self.table.redis, self.topics.prefix)
        for held in holdings.values():
            wanted |= held.symbols
        return wanted

    async def refresh(self) -> None:
        """Timer: buffer what is needed now, recover new symbols, drop stale ones; take up
        the trailing stops alerts gave their orders."""
        holdings = await self.holdings()
        await self.table.track(await self.needed(holdings))
        await self.alert_trailing(holdings)

    async def alert_trailing(self, holdings: Mapping[str, Holdings]) -> None:
        """Give each account the trailing stops its alerts asked for (`alert_trailing`, by
        the order's comment), and forget those whose position or order is gone for a day."""
        redis, keys = self.table.redis, self.topics.keys
        names = [n for n in self.accounts if n in holdings]
        if not names:
            return
        pipe = redis.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(keys.alert_trailing(name))
        stored: list[dict[bytes, bytes]] = await pipe.execute()
        now = time.time()
        for name, entries in zip(names, stored, strict=True):
            account = self.accounts[name]
            alerts: dict[str, TrailingStop] = {}
            stale: list[str] = []
            held = holdings[name].comments
            for raw_comment, raw in entries.items():
                comment, value = raw_comment.decode(), orjson.loads(raw)
                if comment in held or now - float(value["at"]) < FORGET_AFTER:
                    alerts[comment] = TrailingStop.model_validate(value["trailing"])
                else:
                    stale.append(comment)
            account.trailer.alerts = alerts
            if stale:
                await redis.hdel(keys.alert_trailing(name), *stale)

    def rates(self) -> dict[str, float]:
        """Ticks per second per symbol since the previous call."""
        now = time.monotonic()
        elapsed = max(now - self._reported_at, 1e-9)
        rates = {s: (n - self._reported[s]) / elapsed for s, n in self.seen.items()}
        self._reported = Counter(self.seen)
        self._reported_at = now
        return rates

    async def report(self) -> None:
        """Timer: one compact line of the flow and of the accounts' floating profit, e.g.
        `ticks.flow EURUSD=2.0/s XAUUSD=1.6/s buffered=2 profit={'demo-1': '+3.20'}`."""
        flow = {s: f"{r:.1f}/s" for s, r in sorted(self.rates().items())}
        names = list(self.accounts)
        infos = await asyncio.gather(
            *(asyncio.to_thread(self.accounts[n].module.account_info) for n in names),
            return_exceptions=True,
        )
        profit = {
            n: f"{i.profit:+.2f}" for n, i in zip(names, infos, strict=True)
            if isinstance(i, AccountInfo) and i.profit
        }  # fmt: skip
        log.info("ticks.flow", **flow, buffered=len(self.table.symbols), profit=profit)
