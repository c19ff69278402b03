"""Running handlers over entries and deciding, per entry, what its commit must hold."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from streams.batch import Batch, Stop
from streams.columns import Columns, columns_of
from streams.commit import Unit
from streams.dlq import dead_letter, dlq_key, fails_key, forget_failures, record_failure
from streams.errors import DecodeError, Defer, Poison
from streams.event import Event
from streams.handlers import BatchHandler, ColumnsHandler, Handler, StreamsHandler
from streams.outbox import Outbox
from streams.reader import Entry, stream_id
from streams.topic import FIELD, Topic
from streams.types import Command

log = structlog.get_logger(__name__)

Kind = Literal["done", "failed", "deferred", "dead", "dropped"]
"""done: handled; failed: to retry; deferred: to handle again later, not a failure; dead:
moved to the DLQ; dropped: deleted while pending."""

XACK_CHUNK = 1000
MISSING = "d: field is missing"
REDIS_AWAY = (RedisConnectionError, RedisTimeoutError)
"""A handler's Redis link lost (a restart, a reset): not the entry's fault, never counted."""


@dataclass(slots=True)
class Outcome:
    """What became of `entries` (one, or a whole batch) and the unit that records it."""

    entries: list[Entry]
    kind: Kind
    unit: Unit
    error: str = ""
    after: float = 0.0
    """Seconds before a deferred entry is handled again."""

    @property
    def stops_stream(self) -> bool:
        """The entry stays pending, so its stream's later entries must wait behind it."""
        return self.kind in ("failed", "deferred")


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class Runner:
    """Turns an agent's entries into outcomes: decode, call the handler, classify failures."""

    def __init__(
        self,
        *,
        topics: Mapping[str, Topic[Any]],
        group: str,
        consumer: str,
        max_deliveries: int,
        dlq: bool,
        redis_retry: float,
    ) -> None:
        self.topics = topics
        self.redis_retry = redis_retry
        self.group = group
        self.consumer = consumer
        self.max_deliveries = max_deliveries
        self.dlq = dlq
        first = next(iter(topics.values()))
        prefix = first.prefix
        self.fails = {key: fails_key(prefix, t.name, group) for key, t in topics.items()}
        self.dlqs = {key: dlq_key(prefix, t.name) for key, t in topics.items()}

    def exhausted(self, entry: Entry) -> bool:
        """Already tried `max_deliveries` times (e.g. it killed its worker each time)."""
        return self.dlq and entry.failures >= self.max_deliveries

    def event(self, entry: Entry) -> Event[Any]:
        """Decode an entry; raises `DecodeError` (poison) when it does not decode."""
        topic = self.topics[entry.stream]
        raw = entry.fields.get(FIELD)
        if raw is None:
            raise DecodeError(MISSING)
        return Event(topic.decode(raw), entry.id, entry.stream, topic, raw, entry.failures + 1)

    def done(self, entry: Entry, commands: list[Command]) -> Outcome:
        if entry.failures or entry.counted:
            commands = [*commands, forget_failures(self.fails[entry.stream], [entry.id])]
        return Outcome([entry], "done", Unit(entry.stream, entry.id, commands))

    def dropped(self, entry: Entry) -> Outcome:
        forget = forget_failures(self.fails[entry.stream], [entry.id])
        return Outcome([entry], "dropped", Unit(entry.stream, entry.id, [forget]))

    def dead(self, entry: Entry, error: str, deliveries: int) -> Outcome:
        letter = dead_letter(
            self.dlqs[entry.stream],
            stream=entry.stream,
            group=self.group,
            entry_id=entry.id,
            raw=entry.fields.get(FIELD, b""),
            error=error,
            deliveries=deliveries,
        )
        forget = forget_failures(self.fails[entry.stream], [entry.id])
        return Outcome([entry], "dead", Unit(entry.stream, entry.id, [letter, forget]), error)

    def failed(self, entry: Entry, error: str, held: Sequence[str]) -> Outcome:
        """A failed attempt: dead-lettered when it was the last allowed one, else recorded.

        The record also re-claims the `held` ids (XCLAIM JUSTID resets their idle time), so
        no other consumer claims entries this one is still retrying.
        """
        if self.dlq and entry.failures + 1 >= self.max_deliveries:
            return self.dead(entry, error, entry.failures + 1)
        fails = self.fails[entry.stream]
        record = record_failure(fails, entry.id, error)
        commands = record[1:] if entry.counted else record
        unit = Unit(entry.stream, "", [*commands, self._touch(entry.stream, held)])
        return Outcome([entry], "failed", unit, error)

    def deferred(self, entry: Entry, defer: Defer, held: Sequence[str]) -> Outcome:
        """Not handled yet: nothing is recorded but the `held` ids re-claimed (as `failed`).

        An attempt counted before it ran (a `careful` entry's, in case it kills its worker)
        is taken back: it did not, and a deferral never counts. Left counted, every restart
        or lost link while the entry waits added one, until it was dead-lettered unhandled.
        """
        commands = [self._touch(entry.stream, held)]
        if entry.counted:
            commands.append(self._uncount(entry))
        unit = Unit(entry.stream, "", commands)
        return Outcome([entry], "deferred", unit, str(defer) or "deferred", defer.after)

    def _uncount(self, entry: Entry) -> Command:
        """Its failure record as it was before the attempt was counted."""
        fails = self.fails[entry.stream]
        if entry.failures:
            return ("HSET", fails, entry.id, entry.failures)
        return forget_failures(fails, [entry.id])

    def _touch(self, stream: str, held: Sequence[str]) -> Command:
        """XCLAIM JUSTID of ids still being retried: resets their idle time."""
        return ("XCLAIM", stream, self.group, self.consumer, 0, *held, "JUSTID")

    async def run_stream(self, handler: Handler[Any], entries: Sequence[Entry]) -> list[Outcome]:
        """Handle one stream's entries in id order, stopping at the first failed or
        deferred one."""
        outcomes = []
        for index, entry in enumerate(entries):
            outcome = await self._run_one(handler, entry, entries[index:])
            outcomes.append(outcome)
            if outcome.stops_stream:
                break
        return outcomes

    async def _run_one(self, handler: Handler[Any], entry: Entry, rest: Sequence[Entry]) -> Outcome:
        if entry.deleted:
            return self.dropped(entry)
        if self.exhausted(entry):
            return self.dead(entry, gave_up(entry), entry.failures)
        out = Outbox()
        try:
            await handler(self.event(entry), out)
        except Poison as exc:
            return self.dead(entry, str(exc) or describe(exc), entry.failures + 1)
        except Defer as exc:
            return self.deferred(entry, exc, [e.id for e in rest])
        except REDIS_AWAY as exc:
            log.warning("agent.handler_redis_unavailable", stream=entry.stream, id=entry.id)
            away = Defer(self.redis_retry, f"redis unavailable: {describe(exc)}")
            return self.deferred(entry, away, [e.id for e in rest])
        except Exception as exc:
            log.warning(
                "agent.handler_failed",
                group=self.group,
                stream=entry.stream,
                id=entry.id,
                deliveries=entry.failures + 1,
                error=describe(exc),
            )
            return self.failed(entry, describe(exc), [e.id for e in rest])
        return self.done(entry, out.commands)

    async def run_batch(
        self, handler: BatchHandler[Any], entries: Sequence[Entry]
    ) -> list[Outcome]:
        """Handle entries as one batch: all acked together, or all retried together."""
        outcomes: list[Outcome] = []
        events: list[Event[Any]] = []
        live: list[Entry] = []
        for entry in entries:
            if entry.deleted:
                outcomes.append(self.dropped(entry))
            elif self.exhausted(entry):
                outcomes.append(self.dead(entry, gave_up(entry), entry.failures))
            else:
                try:
                    events.append(self.event(entry))
                    live.append(entry)
                except Poison as exc:
                    outcomes.append(self.dead(entry, str(exc), entry.failures + 1))
        if not live:
            return outcomes
        return outcomes + await self.run_whole(lambda out: handler(events, out), live)

    async def run_columns(
        self, handler: ColumnsHandler, batch: Mapping[str, Sequence[Entry]]
    ) -> list[Outcome]:
        """Handle entries as one batch of columns (undecoded): all acked together, or all
        retried together. An entry without a `d` field is dead-lettered, as a per-event
        agent's would be."""
        outcomes: list[Outcome] = []
        live: dict[str, list[Entry]] = {}
        for stream, entries in batch.items():
            for entry in entries:
                if entry.deleted:
                    outcomes.append(self.dropped(entry))
                elif self.exhausted(entry):
                    outcomes.append(self.dead(entry, gave_up(entry), entry.failures))
                elif FIELD not in entry.fields:
                    outcomes.append(self.dead(entry, MISSING, entry.failures + 1))
                else:
                    live.setdefault(stream, []).append(entry)
        if not live:
            return outcomes
        columns = columns_of(live)
        listed = [e for entries in live.values() for e in entries]
        return outcomes + await self.run_whole(lambda out: handler(columns, out), listed)

    async def run_whole(
        self, call: Callable[[Outbox], Awaitable[None]], live: list[Entry]
    ) -> list[Outcome]:
        """Call a whole-batch handler over `live`: one outcome acking them all, or theirs."""
        out = Outbox()
        try:
            await call(out)
        except Exception as exc:
            return self.whole_lost(exc, live)
        return [self.batch_done(live, out.commands)]

    def whole_lost(self, exc: Exception, live: list[Entry]) -> list[Outcome]:
        """What a whole-batch handler's exception makes of each of its entries: dead
        (`Poison`), deferred (`Defer`, Redis away: not the entries' fault), else failed."""
        if isinstance(exc, Poison):
            return [self.dead(e, str(exc) or describe(exc), e.failures + 1) for e in live]
        if isinstance(exc, REDIS_AWAY):
            log.warning("agent.handler_redis_unavailable", size=len(live))
            exc = Defer(self.redis_retry, f"redis unavailable: {describe(exc)}")
        if isinstance(exc, Defer):
            return [self.deferred(e, exc, [e.id]) for e in live]
        log.warning(
            "agent.batch_failed",
            group=self.group,
            size=len(live),
            error=describe(exc),
            deliveries=max(e.failures for e in live) + 1,
        )
        return [self.failed(e, describe(exc), [e.id]) for e in live]

    async def run_streams(
        self, handler: StreamsHandler[Any], batch: Mapping[str, Sequence[Entry]]
    ) -> list[Outcome]:
        """Handle a batch in one call with a verdict per event: per stream, the handled
        events commit as one unit (the stream's writes and their acks), a failed or
        deferred event stops its stream, a poisoned one is dead-lettered."""
        outcomes: list[Outcome] = []
        entries: dict[tuple[str, str], Entry] = {}
        events: dict[str, list[Event[Any]]] = {}
        for stream, read in batch.items():
            live = events.setdefault(stream, [])
            for entry in read:
                if entry.deleted:
                    outcomes.append(self.dropped(entry))
                elif self.exhausted(entry):
                    outcomes.append(self.dead(entry, gave_up(entry), entry.failures))
                else:
                    try:
                        live.append(self.event(entry))
                    except Poison as exc:
                        outcomes.append(self.dead(entry, str(exc), entry.failures + 1))
                        continue
                    entries[(stream, entry.id)] = entry
        work = Batch(events)
        if not work.streams:
            return outcomes
        try:
            await handler(work)
        except Exception as exc:
            return outcomes + self._batch_lost(work, entries, exc)
        for stream, handled in work.streams.items():
            stop = work.stops.get(stream)
            done: list[Entry] = []
            for event in handled:
                entry = entries[(stream, event.id)]
                if stop is not None and stream_id(event.id) >= stream_id(stop.event.id):
                    break
                reason = work.poisoned.get((stream, event.id))
                if reason is not None:
                    outcomes.append(self.dead(entry, reason, entry.failures + 1))
                else:
                    done.append(entry)
            if done:
                outcomes.append(self.stream_done(stream, done, work.written(stream)))
            if stop is not None:
                held = [e.id for e in handled if stream_id(e.id) >= stream_id(stop.event.id)]
                outcomes.append(self._stopped(entries[(stream, stop.event.id)], stop, held))
        return outcomes

    def _stopped(self, entry: Entry, stop: Stop, held: Sequence[str]) -> Outcome:
        if stop.verdict == "deferred":
            return self.deferred(entry, Defer(stop.after, stop.reason), held)
        return self.failed(entry, stop.reason, held)

    def _batch_lost(
        self, work: Batch[Any], entries: Mapping[tuple[str, str], Entry], exc: Exception
    ) -> list[Outcome]:
        """The handler raised: each stream stops at its first event, deferred when the
        reason is not the entries' (`Defer`, Redis away), failed otherwise."""
        if isinstance(exc, REDIS_AWAY):
            log.warning("agent.handler_redis_unavailable", size=len(work))
            exc = Defer(self.redis_retry, f"redis unavailable: {describe(exc)}")
        elif not isinstance(exc, Defer):
            log.warning("agent.batch_failed", group=self.group, size=len(work), error=describe(exc))
        outcomes = []
        for stream, listed in work.streams.items():
            first = entries[(stream, listed[0].id)]
            held = [e.id for e in listed]
            if isinstance(exc, Defer):
                outcomes.append(self.deferred(first, exc, held))
            else:
                outcomes.append(self.failed(first, describe(exc), held))
        return outcomes

    def stream_done(self, stream: str, done: list[Entry], commands: list[Command]) -> Outcome:
        """One unit for a stream's handled entries: its writes, then their XACK."""
        tried = [e.id for e in done if e.failures or e.counted]
        if tried:
            commands = [*commands, forget_failures(self.fails[stream], tried)]
        ids = [e.id for e in done]
        for start in range(0, len(ids), XACK_CHUNK):
            commands.append(("XACK", stream, self.group, *ids[start : start + XACK_CHUNK]))
        return Outcome(done, "done", Unit(stream, "", commands))

    def columns_done(self, columns: Mapping[str, Columns], commands: list[Command]) -> Unit:
        """The unit of a new read handled as columns: its outputs, then the acks of each
        stream in one `ACKS` (new entries have no failure record to forget)."""
        acks: list[Command] = [
            ("ACKS", stream, self.group, b" ".join(map(encoded, found.ids)))
            for stream, found in columns.items()
        ]
        return Unit("", "", [*commands, *acks])

    def batch_done(self, live: list[Entry], commands: list[Command]) -> Outcome:
        """One unit for the whole batch: its outputs, then an XACK per stream."""
        by_stream: dict[str, list[str]] = {}
        for entry in live:
            by_stream.setdefault(entry.stream, []).append(entry.id)
        tried = [e for e in live if e.failures or e.counted]
        for stream in {e.stream for e in tried}:
            ids = [e.id for e in tried if e.stream == stream]
            commands = [*commands, forget_failures(self.fails[stream], ids)]
        for stream, ids in by_stream.items():
            for start in range(0, len(ids), XACK_CHUNK):
                commands.append(("XACK", stream, self.group, *ids[start : start + XACK_CHUNK]))
        return Outcome(live, "done", Unit("", "", commands))


def encoded(entry_id: bytes | str) -> bytes:
    return entry_id if isinstance(entry_id, bytes) else entry_id.encode()


def gave_up(entry: Entry) -> str:
    reason = f"gave up after {entry.failures} deliveries"
    return f"{reason}: {entry.last_error}" if entry.last_error else reason
