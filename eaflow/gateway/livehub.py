"""One reader per gateway process for every `/api/live` stream, fanning out to subscribers.

Each live stream used to run its own blocking XREAD, holding a Redis connection for up to a
second: 200 chart clients took all 100 connections of the pool the webhook, the router and
the tick feed shared (issue 18). Now one task reads every subscribed symbol's tick stream,
`rtrs` and `trades` with one blocking XREAD, reads the subscribed instances' snapshots with
one MGET, builds each (symbol, instance) pair's events once and hands them to its
subscribers: the live feed holds at most one Redis connection per process, however many
clients watch.

Bounds, so a client can neither exhaust the process nor hold it up:

- at most `max_streams` subscribers per process (503) and `per_client` per client address
  (429), counted while their stream is open;
- a subscriber that does not keep up (its undelivered events pass `max_pending` bytes or
  are older than `stale` seconds: a client that stopped reading) is dropped: its stream
  ends and the browser's EventSource reconnects;
- rounds are at least `min_round` seconds apart: a fast tick feed costs the same Redis
  work and fan-out however many ticks arrive (the chart shows the newest tick of a round).

The reader starts with the first subscriber and ends after the last one leaves. A failed
round (Redis away, or a bug) is logged and retried with backoff; it never ends silently.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from eaflow.gateway.entries import decoded
from eaflow.gateway.markers import marker, position_types
from model import AccountState, Result
from model.keys import Keys
from model.tick import TickFormatError, decode_tick
from model.trade import TradeState
from streams.timer import cancel

log = structlog.get_logger(__name__)

BLOCK_MS = 1000  # the XREAD's BLOCK: a new symbol is read from the next round
COUNT = 1000  # entries per stream and round
MIN_ROUND = 0.2  # seconds: at most 5 rounds (and chart updates) a second
MAX_PENDING = 256 * 1024  # bytes of undelivered events before a subscriber is dropped
STALE = 15.0  # seconds an undelivered event may wait before its subscriber is dropped
SLICE = 32  # streams woken at a time
KEEPALIVE = 15.0  # seconds of quiet before a stream gets a comment line (proxies keep it)
KEEPALIVE_LINE = b": keep-alive\n\n"
RETRY_MAX = 5.0  # cap of the wait after a failed round, s
REFUSALS_LOGGED_EVERY = 10.0  # seconds between two log lines about refused streams


def event(name: str, data: Any) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def tick_event(entries: list[Any]) -> bytes | None:
    """The newest readable tick of a round's entries, as a `tick` event."""
    for _, fields in reversed(entries):
        try:
            tick = decode_tick(fields.get(b"d", b""))
        except TickFormatError:
            continue
        return event("tick", {"time_msc": tick.time_msc, "bid": tick.bid, "ask": tick.ask})
    return None


def trade_events(trades: list[TradeState], instance: str) -> list[bytes]:
    """`trade` events of the instance's trades (every symbol's: the positions table shows
    them all), or of every instance's when the stream names none."""
    return [
        event("trade", t.model_dump(mode="json"))
        for t in trades
        if not instance or t.instance == instance
    ]


def result_events(
    results: list[Result], instance: str, symbol: str, state: AccountState | None
) -> list[bytes]:
    """`result` events (with their chart marker) of the results a stream shows."""
    out = []
    for result in results:
        if (instance and result.instance != instance) or (
            symbol and result.symbol not in (symbol, None)
        ):
            continue
        out.append(
            event(
                "result",
                {
                    "result": result.model_dump(mode="json"),
                    "marker": marker(result, position_types(state)),
                },
            )
        )
    return out


class LiveRefused(Exception):
    """A live stream the hub will not open: HTTP status, reason and a message naming the
    limit."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


@dataclass(eq=False)
class Subscriber:
    """One open live stream: what it watches, and its events not yet written to it."""

    symbol: str
    instance: str
    client: str
    max_pending: int = MAX_PENDING
    stale: float = STALE
    seen_state: float | None = None
    ended: bool = False
    pending: list[bytes] = field(default_factory=list)
    size: int = 0
    since: float = 0.0  # loop time of the oldest pending chunk
    offered: float = 0.0  # loop time of the last chunk offered
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, chunk: bytes, now: float) -> bool:
        """Queue `chunk`; False (and the subscriber ended) when it is not keeping up."""
        if self.ended:
            return False
        if self.pending and (
            self.size + len(chunk) > self.max_pending or now - self.since > self.stale
        ):
            self.end()
            return False
        if not self.pending:
            self.since = now
        self.offered = now
        self.pending.append(chunk)
        self.size += len(chunk)
        self.wake.set()
        return True

    def end(self) -> None:
        self.ended = True
        self.pending.clear()
        self.size = 0
        self.wake.set()

    async def next(self) -> bytes | None:
        """Everything pending as one chunk, once there is some; None once the subscriber
        has ended (dropped, or the hub closed)."""
        if not self.pending and not self.ended:
            self.wake.clear()
            await self.wake.wait()
        if self.ended:
            return None
        chunk = b"".join(self.pending)
        self.pending.clear()
        self.size = 0
        return chunk


@dataclass
class Cached:
    """An instance's last snapshot: the raw value read, the parsed state and its event."""

    raw: bytes
    state: AccountState | None
    event: bytes


class LiveHub:
    """Example: ``sub = hub.subscribe("EURUSD", "demo-1", "10.0.0.7")``, then
    ``await sub.next(15)`` until it returns None; ``hub.unsubscribe(sub)`` when done."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        *,
        max_streams: int,
        per_client: int,
        block_ms: int = BLOCK_MS,
        min_round: float = MIN_ROUND,
        max_pending: int = MAX_PENDING,
        stale: float = STALE,
        keepalive: float = KEEPALIVE,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.max_streams = max_streams
        self.per_client = per_client
        self.block_ms = block_ms
        self.min_round = min_round
        self.max_pending = max_pending
        self.stale = stale
        self.keepalive = keepalive
        self.subscribers: set[Subscriber] = set()
        self.by_client: Counter[str] = Counter()
        self.last: dict[str, bytes] = {}  # stream key → last id read
        self.states: dict[str, Cached] = {}
        self.rounds = 0
        self.dropped = 0  # subscribers ended for not keeping up
        self.refused: Counter[str] = Counter()  # reason → streams refused
        self._refused_since_log = 0
        self._refusal_logged = 0.0
        self._task: asyncio.Task[None] | None = None

    def subscribe(self, symbol: str, instance: str, client: str) -> Subscriber:
        """A new subscriber, or LiveRefused past the process's or the client's limit."""
        if len(self.subscribers) >= self.max_streams:
            self._refuse(
                LiveRefused(
                    503,
                    "live_capacity",
                    f"live: this gateway already serves its maximum of {self.max_streams} "
                    "live streams; retry later",
                ),
                client,
            )
        if self.by_client[client] >= self.per_client:
            self._refuse(
                LiveRefused(
                    429,
                    "live_per_client",
                    f"live: at most {self.per_client} live streams per client address; "
                    "close one first",
                ),
                client,
            )
        sub = Subscriber(symbol, instance, client, self.max_pending, self.stale)
        sub.offered = asyncio.get_running_loop().time()
        self.subscribers.add(sub)
        self.by_client[client] += 1
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="gateway-live")
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        if sub in self.subscribers:
            self.subscribers.discard(sub)
            self.by_client[sub.client] -= 1
            if self.by_client[sub.client] <= 0:
                del self.by_client[sub.client]
        sub.end()

    async def close(self) -> None:
        """End every stream and the reader."""
        for sub in list(self.subscribers):
            self.unsubscribe(sub)
        await cancel(self._task)
        self._task = None

    def _refuse(self, refusal: LiveRefused, client: str) -> None:
        """Count the refusal; log one line per REFUSALS_LOGGED_EVERY seconds at most (a
        flood of attempts must not become a flood of log lines)."""
        self.refused[refusal.reason] += 1
        self._refused_since_log += 1
        now = asyncio.get_running_loop().time()
        if now - self._refusal_logged >= REFUSALS_LOGGED_EVERY:
            log.warning(
                "live.refused",
                reason=refusal.reason,
                client=client,
                refused=self._refused_since_log,
                streams=len(self.subscribers),
            )
            self._refusal_logged, self._refused_since_log = now, 0
        raise refusal

    async def _run(self) -> None:
        failures = 0
        try:
            while self.subscribers:
                try:
                    await self._round()
                    failures = 0
                except Exception as exc:  # Redis away, or a bug: logged, retried, never silent
                    failures += 1
                    wait = min(0.1 * 2**failures, RETRY_MAX)
                    if isinstance(exc, RedisError):
                        log.warning("live.redis_unavailable", error=str(exc), retry_in=wait)
                    else:
                        log.exception("live.round_failed", error=str(exc), retry_in=wait)
                    await asyncio.sleep(wait)
        finally:
            self.last.clear()  # the next reader starts from what is new then
            self.states.clear()

    async def _round(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        symbols = {self.keys.ticks(s.symbol): s.symbol for s in self.subscribers}
        wanted = {*symbols, self.keys.rtrs, self.keys.trades}
        for key in [k for k in self.last if k not in wanted]:
            del self.last[key]
        new = [k for k in wanted if k not in self.last]
        if new:
            for key, last in zip(new, await self._last_ids(new), strict=True):
                if last is None:  # not a stream: it would fail every subscriber's read
                    self._end_symbol(symbols.get(key, ""), key)
                else:
                    self.last[key] = last
        reply: Any = await self.redis.xread(self.last, block=self.block_ms, count=COUNT)  # type: ignore[arg-type]
        ticks: dict[str, bytes] = {}
        results: list[Result] = []
        trades: list[TradeState] = []
        behind = []
        for raw_key, entries in reply or ():
            key = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key)
            if key not in self.last:
                continue
            self.last[key] = entries[-1][0]
            if key == self.keys.rtrs:
                results += decoded(entries, Result)
            elif key == self.keys.trades:
                trades += decoded(entries, TradeState)
            else:
                newest = tick_event(entries)
                if newest is not None and key in symbols:
                    ticks[symbols[key]] = newest
                if len(entries) >= COUNT:
                    behind.append(key)
        if behind:  # a tick feed faster than COUNT a round: skip to its newest tick
            for key, last in zip(behind, await self._last_ids(behind), strict=True):
                if last is not None:
                    self.last[key] = last
        subscribers = list(self.subscribers)  # some may have come or gone during the read
        states = await self._states({s.instance for s in subscribers if s.instance})
        await self._fan_out(subscribers, ticks, results, trades, states, loop.time())
        self.rounds += 1
        rest = self.min_round - (loop.time() - started)
        if rest > 0:
            await asyncio.sleep(rest)

    async def _fan_out(
        self,
        subscribers: list[Subscriber],
        ticks: dict[str, bytes],
        results: list[Result],
        trades: list[TradeState],
        states: dict[str, Cached],
        now: float,
    ) -> None:
        """Each (symbol, instance) pair's events built once, then offered to its streams,
        SLICE at a time: the streams woken by one slice write before the next is woken,
        and a webhook request waits for one slice's writes, not for a whole round's."""
        shared: dict[tuple[str, str], bytes] = {}
        for n, sub in enumerate(subscribers):
            if n and not n % SLICE:
                await asyncio.sleep(0)
            if sub.ended:  # left while an earlier slice was written
                continue
            pair = (sub.symbol, sub.instance)
            chunk = shared.get(pair)
            cached = states.get(sub.instance) if sub.instance else None
            if chunk is None:
                state = cached.state if cached is not None else None
                made = result_events(results, sub.instance, sub.symbol, state) if results else []
                made += trade_events(trades, sub.instance) if trades else []
                chunk = shared[pair] = ticks.get(sub.symbol, b"") + b"".join(made)
            if cached is not None and cached.state and cached.state.ts != sub.seen_state:
                sub.seen_state = cached.state.ts
                chunk += cached.event
            if not chunk and now - sub.offered >= self.keepalive:
                chunk = KEEPALIVE_LINE
            if chunk and not sub.offer(chunk, now):
                self.dropped += 1
                self.unsubscribe(sub)
                log.info("live.dropped", client=sub.client, symbol=sub.symbol, why="slow")

    async def _last_ids(self, keys: list[str]) -> list[bytes | None]:
        """Each stream's newest id (0-0 when it does not exist yet); None for a key that
        holds something else than a stream."""
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.xrevrange(key, count=1)
        replies = await pipe.execute(raise_on_error=False)
        for reply in replies:
            if isinstance(reply, RedisError) and not isinstance(reply, ResponseError):
                raise reply  # the link, not the key
        return [
            None if isinstance(found, ResponseError) else bytes(found[0][0]) if found else b"0-0"
            for found in replies
        ]

    def _end_symbol(self, symbol: str, key: str) -> None:
        ended = [s for s in self.subscribers if s.symbol == symbol]
        for sub in ended:
            self.unsubscribe(sub)
        log.warning("live.not_a_stream", key=key, streams_ended=len(ended))

    async def _states(self, instances: set[str]) -> dict[str, Cached]:
        """The subscribed instances' snapshots, in one MGET; parsed only when changed."""
        if not instances:
            self.states.clear()
            return {}
        names = sorted(instances)
        raws: list[Any] = await self.redis.mget([self.keys.state(i) for i in names])
        found: dict[str, Cached] = {}
        for instance, raw in zip(names, raws, strict=True):
            if raw is None:
                continue
            cached = self.states.get(instance)
            if cached is None or cached.raw != raw:
                try:
                    state: AccountState | None = AccountState.model_validate_json(raw)
                except ValidationError:
                    state = None
                made = event("state", state.model_dump(mode="json")) if state else b""
                cached = Cached(bytes(raw), state, made)
            found[instance] = cached
        self.states = found
        return found
