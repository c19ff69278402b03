"""`Agent`: the consumer loop of one handler over its topics in one consumer group."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter as Tally
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog
from prometheus_client import Counter
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    wait_exponential,
    wait_random,
)

from streams import metrics
from streams.claim import Claimer
from streams.commit import Committer, Unit
from streams.errors import Defer
from streams.handlers import BatchHandler, Handler, StreamsHandler
from streams.lease import DeadClaimer, Leases, consumer_name, lease_key
from streams.outbox import Outbox
from streams.reader import Entry, load_failures, read_group, stream_id
from streams.runner import REDIS_AWAY, Kind, Outcome, Runner
from streams.settings import AppSettings
from streams.topic import Topic

log = structlog.get_logger(__name__)

LINK_ERRORS = (*REDIS_AWAY, OSError)
"""Errors of a lost or refused Redis connection: wait and reconnect, never give up."""

Concurrency = Literal["per_stream", "serial"]

Mode = bool | Literal["streams"]
"""How the handler is called: per event (False), once per batch, all or nothing (True), or
once per batch with a verdict per event and a unit per stream ("streams", `streams.Batch`)."""

CONFLICT = "CONFLICT"
"""How a refused `EXPECT` begins: a stream unit whose expectation a concurrent writer broke
is handled again at once (its handler reloads), uncounted."""

AGAIN = 0.001
"""Seconds before a conflicted unit's entries are handled again."""
LEASE = "LEASE"
"""How a refused `FENCE` begins when the agent no longer holds the stream's lease."""
ORDER = "ORDER"
"""How a refused `FENCE` begins when an older entry of the stream is still pending."""
BEHIND = 0.05
"""Seconds before a stream whose older entries another consumer held is handled again."""

_NAMES: Tally[str] = Tally()
"""Agents of each group in this process: a second one gets a suffix to its name."""


def agent_consumer(group: str) -> str:
    """The consumer name of a new agent of `group`: the process's name (streams/lease.py),
    with `.2`, `.3` ... for further agents of the same group in this process."""
    _NAMES[group] += 1
    n = _NAMES[group]
    return consumer_name("" if n == 1 else f".{n}")


@dataclass(slots=True)
class StreamState:
    """What an agent knows of one of its streams.

    `held` are entries this consumer owns and must finish (retry) before reading new ones;
    `recovering` means its pending list may hold more (after a start or a lost link);
    `leased`: whether this agent may work the stream (an exclusive agent holds its lease).
    """

    topic: Topic[Any]
    group: str
    held: list[Entry] = field(default_factory=list)
    recovering: bool = True
    leased: bool = True
    retry_at: float = 0.0
    counters: dict[str, Counter] = field(default_factory=dict)

    def count(self, kind: str, n: int) -> None:
        """Add `n` to this stream's counter of events that ended as `kind`, its labels looked
        up once (a label lookup per entry cost more than the entry's own bookkeeping)."""
        found = self.counters.get(kind)
        if found is None:
            metric = metrics.EVENTS_BY_KIND.get(kind)
            if metric is None:
                return
            found = self.counters[kind] = metric.labels(stream=self.topic.key, group=self.group)
        found.inc(n)


class Agent:
    """Reads batches for `group`, runs the handler, commits outputs with acks atomically.

    Built by `App.agent`. Entries of one stream are handled in id order; streams of a batch
    concurrently. A failed entry (and those behind it in its stream) is retried with a
    doubling delay and moves to the DLQ after `max_deliveries` attempts unless `dlq=False`;
    a deferred one (`Defer`) is handled again after the delay its handler gave, uncounted.

    `exclusive=True`: at most one live consumer of the group works each stream, the holder
    of its lease (streams/lease.py), and a stream's entries commit in stream order whoever
    read them; a consumer taking a stream over first resumes what the stream's earlier
    consumers left pending. Entries of known dead consumers are claimed at once, those of
    consumers idle past `claim_min_idle_ms` (not exclusive) at the next claim round.
    """

    def __init__(
        self,
        redis: Redis,
        settings: AppSettings,
        topics: Sequence[Topic[Any]],
        fn: Handler[Any] | BatchHandler[Any] | StreamsHandler[Any],
        *,
        group: str,
        batch: Mode = False,
        dlq: bool = True,
        batch_size: int | None = None,
        concurrency: Concurrency = "per_stream",
        start_id: str | None = None,
        name: str | None = None,
        exclusive: bool = False,
    ) -> None:
        if not topics:
            raise ValueError("topics: an agent needs at least one topic")
        if not group:
            raise ValueError("group: must not be empty")
        if batch_size is not None and batch_size <= 0:
            raise ValueError(f"batch_size: must be positive, got {batch_size}")
        if exclusive and batch is True:
            raise ValueError("exclusive: needs a handler per event or per stream, not batch=True")
        self.redis = redis
        self.settings = settings
        self.fn = fn
        self.group = group
        self.batch = batch
        self.concurrency = concurrency
        self.batch_size = batch_size or settings.batch_size
        self.start_id = start_id or settings.start_id
        self.consumer = settings.consumer or agent_consumer(group)
        self._name = name or str(getattr(fn, "__qualname__", group))
        self.exclusive = exclusive
        self.streams = {
            topic.key: StreamState(topic, group, leased=not exclusive) for topic in topics
        }
        self.runner = Runner(
            topics={key: state.topic for key, state in self.streams.items()},
            group=group,
            consumer=self.consumer,
            max_deliveries=settings.max_deliveries,
            dlq=dlq,
            redis_retry=settings.reconnect_initial,
        )
        self._committer = Committer(redis, group)
        self._claimer = Claimer(
            redis,
            group=group,
            consumer=self.consumer,
            fails=self.runner.fails,
            min_idle_ms=settings.claim_min_idle_ms,
            count=settings.claim_count,
            max_idle_ms=settings.consumer_max_idle_ms,
        )
        self._dead = DeadClaimer(redis, group, self.consumer)
        keys = {k: lease_key(s.topic.prefix, s.topic.name, group) for k, s in self.streams.items()}
        self.leases = Leases(redis, self.consumer, keys if exclusive else {}, settings.lease_ms)
        self._lease_until = 0.0  # loop time until which the leases held are surely ours
        self._waiting: dict[str, str] = {}  # stream → the holder last logged as in the way
        self._next_claim = 0.0
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lease_task: asyncio.Task[None] | None = None
        self._retry = self._retrying()  # the loop's, reused: it restarts on each iteration

    @property
    def name(self) -> str:
        return self._name

    async def start(self) -> None:
        """Create the consumer groups (and, exclusive, take the leases that are free or held
        by dead consumers), then run the loop in a task."""
        self._stopping.clear()
        async for attempt in self._retrying():
            with attempt:
                await self.create_groups(self.start_id)
                if self.exclusive:
                    await self._lease_round()
        self._task = asyncio.create_task(self._run(), name=f"agent:{self.name}")
        if self.exclusive:
            self._lease_task = asyncio.create_task(self._keep_leases(), name=f"lease:{self.name}")

    async def stop(self) -> None:
        """Finish and commit the batch in hand, then return (an exclusive agent gives up its
        leases, so a standby takes its streams over at once)."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._lease_task is not None:
            await self._lease_task
            self._lease_task = None
            with contextlib.suppress(*LINK_ERRORS):
                await self.leases.release()

    async def create_groups(self, start_id: str) -> None:
        """XGROUP CREATE ... MKSTREAM for each stream; an existing group is left as it is."""
        for key in self.streams:
            try:
                await self.redis.xgroup_create(key, self.group, id=start_id, mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def _retrying(self) -> AsyncRetrying:
        settings = self.settings
        return AsyncRetrying(
            retry=retry_if_exception_type(LINK_ERRORS),
            wait=wait_exponential(multiplier=settings.reconnect_initial, max=settings.reconnect_max)
            + wait_random(0, settings.reconnect_initial),
            stop=lambda _: self._stopping.is_set(),
            sleep=self._pause,
            before_sleep=self._link_lost,
            reraise=True,
        )

    def _link_lost(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "agent.redis_unavailable",
            agent=self.name,
            attempt=state.attempt_number,
            error=str(error),
        )
        self._forget()

    def _forget(self) -> None:
        """Distrust what is held in memory: re-read the pending list from Redis (a failover
        may have rolled it back)."""
        for state in self.streams.values():
            state.held = []
            state.recovering = True
            state.retry_at = 0.0

    # -- leases (exclusive agents) --------------------------------------------------------

    async def _keep_leases(self) -> None:
        """Renew the leases every third of their time; take over streams whose holder died."""
        while not self._stopping.is_set():
            await self._pause(self.settings.lease_renew)
            if self._stopping.is_set():
                return
            try:
                await self._lease_round()
            except LINK_ERRORS as error:
                log.warning("agent.lease_unavailable", agent=self.name, error=str(error))
            except Exception as error:
                log.exception("agent.lease_failed", agent=self.name, error=str(error))

    async def _lease_round(self) -> None:
        loop = asyncio.get_running_loop()
        asked = loop.time()
        found = await self.leases.renew()
        # Surely ours until 90 % of the lease, less one renewal: a failover may lose the
        # latest renewal, leaving the promoted replica's lease that much shorter.
        lease = self.settings.lease_ms / 1000
        self._lease_until = asked + lease * 0.9 - self.settings.lease_renew
        for key in found.lost:
            self._drop(key, "renewal")
        for key in sorted(found.taken):
            claimed = await self.leases.sweep(key, self.group)
            if claimed < 0:
                self.leases.drop(key)
                continue
            state = self.streams[key]
            state.held, state.recovering, state.leased, state.retry_at = [], True, True, 0.0
            log.info("agent.lease_taken", agent=self.name, stream=key, resumed=claimed)
        for key, holder in found.others.items():
            if self._waiting.get(key) != holder:
                self._waiting[key] = holder
                log.info("agent.lease_waiting", agent=self.name, stream=key, holder=holder)
        for key in found.held:
            self._waiting.pop(key, None)

    def _drop(self, key: str, why: str) -> None:
        """This agent no longer holds the stream's lease: stop working it. Its entries
        still pending under this consumer are the new holder's to claim."""
        state = self.streams[key]
        if state.leased:
            log.warning("agent.lease_lost", agent=self.name, stream=key, why=why)
        state.leased, state.held, state.recovering = False, [], True
        self.leases.drop(key)

    def _fence(self, stream: str, first: str) -> tuple[str, ...]:
        """The commit's FENCE for a unit of `stream` (its first acked entry `first`)."""
        key, holder = self.leases.fence(stream)
        return ("FENCE", key, holder, stream if first else "", first)

    async def commit_held(self, stream: str, out: Outbox) -> bool:
        """Commit writes made outside any event (a timer's) only while this exclusive agent
        works `stream`, fenced by its lease as its handler's commits are: a standby, or a
        holder whose lease was lost, writes nothing. Returns whether they were written."""
        if not self.exclusive:
            raise ValueError(f"stream: {self.name} is not exclusive, it holds no lease")
        if not self.streams[stream].leased or not out.commands:
            return False
        unit = Unit(stream, commands=[self._fence(stream, ""), *out.commands])
        error = (await self._committer.commit([unit])).get(0, "")
        if error is not None and error.startswith(LEASE):
            self._drop(stream, "commit refused")
        elif error:
            log.error("agent.commit_refused", agent=self.name, stream=stream, error=error)
        return error == ""

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake up at once when a stop is requested."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=max(0.0, seconds))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        self._next_claim = loop.time()
        while not self._stopping.is_set():
            try:
                async for attempt in self._retry:
                    with attempt:
                        if loop.time() >= self._next_claim:
                            await self._claim()
                            self._next_claim = loop.time() + self.settings.claim_interval
                        await self._tick()
            except LINK_ERRORS:
                break  # stop requested while Redis was out of reach
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    await self._recover_from(exc)
                    continue
                log.warning("agent.group_missing", agent=self.name, group=self.group)
                self._forget()
                await self.create_groups("0")
            except Exception as exc:
                await self._recover_from(exc)

    async def _recover_from(self, exc: Exception) -> None:
        log.exception("agent.loop_failed", agent=self.name, error=str(exc))
        self._forget()
        await self._pause(self.settings.retry_max)

    async def _tick(self) -> None:
        """One step: recover own pending entries, retry held ones, or read new ones."""
        loop = asyncio.get_running_loop()
        redis = self.redis
        if self.exclusive and loop.time() > self._lease_until:
            for key, state in self.streams.items():  # renewals failing: not surely ours
                if state.leased:
                    self._drop(key, "expired")
        working = {k: s for k, s in self.streams.items() if s.leased}
        recovering = {k: "0" for k, s in working.items() if s.recovering and not s.held}
        if recovering:
            found = await read_group(
                redis, self.group, self.consumer, recovering, self.batch_size, None
            )
            for key in recovering:
                state = self.streams[key]
                state.held = found.get(key, [])
                state.recovering = bool(state.held)
                for entry in state.held:
                    entry.careful = True
            await load_failures(redis, self.runner.fails, (e for v in found.values() for e in v))
        now = loop.time()
        ready = {k: s.held for k, s in working.items() if s.held and s.retry_at <= now}
        if ready:
            if self.batch is not True:  # one at a time while it may be what kills workers
                ready = {k: held[:1] if held[0].careful else held for k, held in ready.items()}
            await self._handle(ready)
            return
        waits = [s.retry_at - now for s in working.values() if s.held]
        block_ms = self.settings.block_ms
        if waits:
            block_ms = max(1, min(block_ms, int(min(waits) * 1000) + 1))
        fresh = {k: ">" for k, s in working.items() if not s.held and not s.recovering}
        if not fresh:
            await self._pause(block_ms / 1000)
            return
        batch = await read_group(redis, self.group, self.consumer, fresh, self.batch_size, block_ms)
        if batch:
            await self._handle(batch)

    async def _handle(self, batch: dict[str, list[Entry]]) -> None:
        """Run the handler over `batch`, commit, and keep what did not finish for a retry."""
        started = time.perf_counter()
        await self._count_attempts([e for v in batch.values() for e in v])
        if self.batch == "streams":
            outcomes = await self.runner.run_streams(self.fn, batch)  # type: ignore[arg-type]
        elif self.batch:
            entries = sorted((e for v in batch.values() for e in v), key=lambda e: stream_id(e.id))
            outcomes = await self.runner.run_batch(self.fn, entries)  # type: ignore[arg-type]
        else:
            outcomes = await self._run_streams(batch)
        committed = await self._commit(outcomes, batch)
        self._settle(batch, committed)
        metrics.BATCH_SECONDS.labels(group=self.group).observe(time.perf_counter() - started)

    async def _run_streams(self, batch: dict[str, list[Entry]]) -> list[Outcome]:
        handler: Handler[Any] = self.fn  # type: ignore[assignment]
        if self.concurrency == "serial":
            results = [await self.runner.run_stream(handler, v) for v in batch.values()]
        else:
            results = await asyncio.gather(
                *(self.runner.run_stream(handler, v) for v in batch.values())
            )
        return [outcome for result in results for outcome in result]

    async def _count_attempts(self, entries: list[Entry]) -> None:
        """Record an attempt before it runs for entries that may have killed their worker."""
        todo = [
            e for e in entries
            if e.careful and not e.counted and not e.deleted and not self.runner.exhausted(e)
        ]  # fmt: skip
        if not todo:
            return
        pipe = self.redis.pipeline(transaction=False)
        for entry in todo:
            pipe.hincrby(self.runner.fails[entry.stream], entry.id, 1)
        await pipe.execute()
        for entry in todo:
            entry.counted = True

    async def _commit(
        self, outcomes: list[Outcome], batch: dict[str, list[Entry]]
    ) -> list[Outcome]:
        """Commit; a unit Redis refuses becomes a failure of its entries. Returns the
        outcomes that committed."""
        if self.exclusive:
            self._fence_units(outcomes)
        refused = await self._committer.commit([o.unit for o in outcomes])
        committed = [o for i, o in enumerate(outcomes) if i not in refused]
        retry: list[Outcome] = []
        for index, error in refused.items():
            outcome = outcomes[index]
            if error is not None and error.startswith(LEASE):
                self._drop(outcome.entries[0].stream, "commit refused")
                continue  # the new holder claims its entries
            if error is not None and error.startswith(ORDER) and outcome.kind != "failed":
                first = outcome.entries[0]
                log.info("agent.behind", agent=self.name, stream=first.stream, error=error)
                state = self.streams[first.stream]
                state.held, state.recovering = [], True  # read the pending list again
                state.retry_at = asyncio.get_running_loop().time() + BEHIND
                self._next_claim = 0.0  # and sweep what others hold, now
                continue
            if error is None or outcome.stops_stream:
                continue  # skipped behind a failure, or a failure record: stays pending
            if outcome.kind != "done":
                log.error("agent.commit_refused", agent=self.name, kind=outcome.kind, error=error)
                continue
            first = outcome.entries[0]
            held = [e.id for e in batch[first.stream] if stream_id(e.id) >= stream_id(first.id)]
            if error.startswith(CONFLICT):
                log.info("agent.conflict", agent=self.name, stream=first.stream, error=error)
                retry.append(self.runner.deferred(first, Defer(AGAIN, error), held))
                continue
            log.error(
                "agent.commit_refused",
                agent=self.name,
                error=error,
                ids=[e.id for e in outcome.entries],
            )
            if outcome.unit.stream:  # one stream's entries: the first fails, the rest wait
                retry.append(self.runner.failed(first, f"commit: {error}", held))
                continue
            for entry in outcome.entries:  # a whole batch's unit: each of its entries failed
                held = [e.id for e in batch[entry.stream] if stream_id(e.id) >= stream_id(entry.id)]
                retry.append(self.runner.failed(entry, f"commit: {error}", held))
        if retry:
            if self.exclusive:
                self._fence_units(retry)
            again = await self._committer.commit([o.unit for o in retry])
            committed += [o for i, o in enumerate(retry) if i not in again]
        return committed

    def _fence_units(self, outcomes: list[Outcome]) -> None:
        """Every unit of an exclusive agent starts with its FENCE: its lease, and (for units
        that ack) no older entry of its stream pending."""
        for outcome in outcomes:
            stream = outcome.entries[0].stream
            first = "" if outcome.stops_stream else outcome.entries[0].id
            outcome.unit.commands.insert(0, self._fence(stream, first))

    def _settle(self, batch: dict[str, list[Entry]], committed: list[Outcome]) -> None:
        """Count what happened; keep unfinished entries held, their stream backing off (a
        deferred one for as long as its handler asked)."""
        finished: set[tuple[str, str]] = set()  # (stream, id): ids repeat across streams
        deferred: dict[str, float] = {}
        counts: Tally[tuple[str, Kind]] = Tally()
        for outcome in committed:
            for entry in outcome.entries:
                counts[(entry.stream, outcome.kind)] += 1
                if outcome.kind == "deferred":
                    deferred[entry.stream] = outcome.after
                    entry.counted = False  # taken back: a careful one's next attempt counts
                    continue
                if outcome.kind == "failed":
                    entry.failures += 1
                    entry.last_error = outcome.error
                    entry.counted = False
                    continue
                finished.add((entry.stream, entry.id))
                if outcome.kind == "dead":
                    log.error(
                        "agent.dead_lettered",
                        agent=self.name,
                        stream=entry.stream,
                        id=entry.id,
                        error=outcome.error,
                    )
        for (stream, kind), count in counts.items():
            self.streams[stream].count(kind, count)
        now = asyncio.get_running_loop().time()
        settings = self.settings
        for key, entries in batch.items():
            state = self.streams[key]
            handled = {e.id for e in entries}
            left = [e for e in entries if (key, e.id) not in finished]
            state.held = left + [e for e in state.held if e.id not in handled]
            if key in deferred:
                state.retry_at = now + deferred[key]
            elif left:
                failures = max(1, left[0].failures)
                delay = settings.retry_initial * 2 ** min(failures - 1, 32)
                state.retry_at = now + min(settings.retry_max, delay)
            else:
                state.retry_at = now

    async def _claim(self) -> None:
        """Take over what other consumers left: on a leased stream of an exclusive agent,
        everything pending under another consumer (it is dead, or lost the lease); else the
        entries of known dead consumers at once, and entries idle past `claim_min_idle_ms`.
        Consumers whose entries were taken are deleted."""
        if self.exclusive:
            for key, state in self.streams.items():
                if not state.leased:
                    continue
                swept = await self.leases.sweep(key, self.group)
                if swept < 0:
                    self._drop(key, "sweep")
                elif swept:
                    state.held, state.recovering = [], True  # in stream order, with ours
                    log.info("agent.claimed", agent=self.name, stream=key, count=swept)
            return
        others = await self._dead.others(list(self.streams))
        for key, found in others.items():
            if found.dead:
                count = await self._dead.claim(key, found.dead)
                self.streams[key].recovering = True
                log.info("agent.claimed", agent=self.name, stream=key, count=count, dead=found.dead)
        for key, state in self.streams.items():
            claimed = await self._claimer.claim(key)
            if claimed.vanished:
                state.recovering = True
            known = {e.id for e in state.held}
            new = [e for e in claimed.entries if e.id not in known]
            if new:
                state.held = sorted(state.held + new, key=lambda e: stream_id(e.id))
                log.info("agent.claimed", agent=self.name, stream=key, count=len(new))
            removed = await self._claimer.reap(key, others[key].idle if key in others else {})
            if removed:
                log.info("agent.consumers_deleted", agent=self.name, stream=key, names=removed)
