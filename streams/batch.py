"""`Batch`: one read of an agent's streams handed to its handler at once, a verdict per event.

A per-event handler costs a call, an outbox and a commit unit per entry; a handler that can
do its work for many entries together (one read of their records, one broker computation
per account) takes the whole batch instead. Events are grouped by stream in id order. Each
stream has one outbox, committed in one unit with the acks of the stream's handled events,
so all of a stream's work in a batch lands together or not at all. An event that cannot be
handled gets a verdict, and the later events of its stream are left for the next batch:

    async def execute(batch: Batch[Order]) -> None:
        for stream, events in batch.streams.items():
            out = batch.outbox(stream)
            for event in events:
                if broker_away:
                    batch.defer(event, 5.0, "broker unavailable")  # this and later wait
                    break
                out.send(results, result_of(event.value))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal

from streams.errors import Defer
from streams.event import Event
from streams.outbox import Outbox
from streams.reader import stream_id
from streams.types import Command, T

Verdict = Literal["failed", "deferred"]


@dataclass(frozen=True, slots=True)
class Stop:
    """Why a stream stopped at `event`: failed (counted, retried with backoff, dead-lettered
    at last) or deferred (handled again after `after` seconds, uncounted)."""

    event: Event[Any]
    verdict: Verdict
    reason: str
    after: float = 0.0


class Batch(Generic[T]):
    """The events of one read, by stream; what the handler did with each."""

    __slots__ = ("_outboxes", "poisoned", "stops", "streams")

    def __init__(self, streams: Mapping[str, Sequence[Event[T]]]) -> None:
        self.streams: dict[str, list[Event[T]]] = {k: list(v) for k, v in streams.items() if v}
        self._outboxes: dict[str, Outbox] = {}
        self.stops: dict[str, Stop] = {}
        self.poisoned: dict[tuple[str, str], str] = {}  # (stream, id) → why

    def __len__(self) -> int:
        return sum(len(events) for events in self.streams.values())

    def outbox(self, stream: str) -> Outbox:
        """The writes of `stream`'s handled events, committed with their acks."""
        out = self._outboxes.get(stream)
        if out is None:
            out = self._outboxes[stream] = Outbox()
        return out

    def written(self, stream: str) -> list[Command]:
        """What the handler wrote for `stream` (nothing if it never asked for its outbox)."""
        out = self._outboxes.get(stream)
        return [] if out is None else out.commands

    def defer(self, event: Event[T], defer: Defer) -> None:
        """`event` and the later events of its stream wait `defer.after` seconds, uncounted;
        the handler must not write anything for them in this batch."""
        self._stop(Stop(event, "deferred", str(defer) or "deferred", defer.after))

    def fail(self, event: Event[T], reason: str) -> None:
        """`event` failed: retried with backoff, dead-lettered after `max_deliveries`; the
        later events of its stream wait behind it."""
        self._stop(Stop(event, "failed", reason))

    def poison(self, event: Event[T], reason: str) -> None:
        """`event` can never be handled: dead-lettered at once; its stream goes on."""
        self.poisoned[(event.stream, event.id)] = reason

    def stopped(self, stream: str) -> bool:
        return stream in self.stops

    def _stop(self, stop: Stop) -> None:
        stream = stop.event.stream
        known = self.stops.get(stream)
        if known is None or stream_id(stop.event.id) < stream_id(known.event.id):
            self.stops[stream] = stop
