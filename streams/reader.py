"""Reading entries for a consumer: new ones, its own pending ones, and their failure records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from redis.asyncio import Redis

from streams.dlq import error_field


@dataclass(slots=True)
class Entry:
    """A raw entry this consumer owns (it is in the group's pending list under its name).

    `failures` counts recorded failed or crashed attempts; `careful` entries came back from
    a claim or a restart, so each attempt is counted before it runs — a message that kills
    its worker still reaches the DLQ after `max_deliveries` attempts.
    """

    stream: str
    id: str
    fields: dict[bytes, bytes]
    failures: int = 0
    last_error: str = ""
    careful: bool = False
    counted: bool = field(default=False, compare=False)

    @property
    def deleted(self) -> bool:
        """Trimmed or deleted while pending: XADD never writes an entry without fields."""
        return not self.fields


def stream_id(entry_id: str) -> tuple[int, int]:
    """Sort key of a stream id `ms-seq`."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def text(value: bytes | str, errors: str = "strict") -> str:
    """A Redis reply as text (replies are bytes on RESP2 clients, str on decoding ones)."""
    return value.decode(errors=errors) if isinstance(value, bytes) else value


def parse_entries(stream: str, raw: Iterable[Sequence[Any]]) -> list[Entry]:
    """redis-py's (id, fields) pairs → entries; (None, None) placeholders are skipped."""
    return [
        Entry(stream, text(entry_id), dict(fields or {}))
        for entry_id, fields in raw
        if entry_id is not None
    ]


def parse_read(reply: Sequence[Sequence[Any]] | None) -> dict[str, list[Entry]]:
    """An XREADGROUP reply (RESP2: [[key, [(id, fields), ...]], ...]) → entries by stream."""
    by_stream: dict[str, list[Entry]] = {}
    for key, raw in reply or ():
        stream = text(key)
        by_stream[stream] = parse_entries(stream, raw)
    return by_stream


async def read_group(
    redis: Redis,
    group: str,
    consumer: str,
    ids: Mapping[str, str],
    count: int,
    block_ms: int | None,
) -> dict[str, list[Entry]]:
    """One XREADGROUP over every stream of `ids` (">" for new entries, "0" for own pending).

    With a "0" the call does not block and every such stream answers, empty or not.
    """
    streams: dict[Any, Any] = dict(ids)
    reply = await redis.xreadgroup(group, consumer, streams, count=count, block=block_ms)
    return parse_read(cast(list[list[Any]], reply))


async def load_failures(redis: Redis, fails: Mapping[str, str], entries: Iterable[Entry]) -> None:
    """Fill in `failures` and `last_error` of `entries` from their streams' fails hashes."""
    todo = [entry for entry in entries if not entry.deleted]
    if not todo:
        return
    pipe = redis.pipeline(transaction=False)
    for entry in todo:
        pipe.hmget(fails[entry.stream], [entry.id, error_field(entry.id)])
    for entry, (count, error) in zip(todo, await pipe.execute(), strict=True):
        entry.failures = int(count or 0)
        entry.last_error = text(error or b"")
