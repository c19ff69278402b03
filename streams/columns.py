"""`Columns`: one stream's entries of a batch as two lists, ids and payloads, no event each.

A `batch="columns"` agent hands its handler one read as `{stream: Columns}` and acks it all
in one commit when the handler returns, all or nothing as `batch=True` does. What it saves
is the work per entry: a new read's XREADGROUP reply is taken as the parser left it (no
redis-py reply callback, no `Entry`, no `Event`, no decoding), so a handler that decodes
its payloads in bulk (the ticks agent: thousands of ticks a second) pays microseconds less
per entry. Entries the runtime must look at one by one (retried, claimed, recovered after a
restart, deleted, without a `d` field) go through its ordinary path and reach the handler
as columns too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from redis.asyncio import Redis

from streams.reader import Entry, parse_read, read_group, text
from streams.topic import FIELD


@dataclass(slots=True)
class Columns:
    """The entries of one stream in id order: `ids[i]` holds payload `data[i]` (its `d`)."""

    ids: list[bytes | str] = field(default_factory=list)
    data: list[bytes] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


RAW_XREADGROUP = "XREADGROUP GROUP"
"""XREADGROUP under a name redis-py has no reply callback for (it sends the words as
separate arguments): the reply comes back as hiredis built it, without a tuple and a dict
per entry."""


async def read_columns(
    redis: Redis,
    group: str,
    consumer: str,
    streams: Mapping[str, str],
    count: int,
    block_ms: int | None,
) -> tuple[dict[str, Columns], dict[str, list[Entry]]]:
    """One XREADGROUP of new entries (">") of `streams`: as columns by stream, or (the
    other half of the answer) as entries when any entry is not a lone `d` field or the
    client is not a plain `Redis` (a cluster client routes commands by their name)."""
    if not isinstance(redis, Redis):
        return {}, await read_group(redis, group, consumer, streams, count, block_ms)
    args: list[Any] = [group, consumer, "COUNT", count]
    if block_ms is not None:
        args += ["BLOCK", block_ms]
    args += ["STREAMS", *streams, *streams.values()]
    reply = await cast(Any, redis).execute_command(RAW_XREADGROUP, *args)
    pairs = list(reply.items()) if isinstance(reply, dict) else (reply or [])  # RESP3: a map
    found: dict[str, Columns] = {}
    for key, entries in pairs:
        ids: list[bytes | str] = []
        data: list[bytes] = []
        for entry_id, fields in entries:
            if fields is None or len(fields) != 2 or fields[0] != FIELD:
                return {}, parse_read([(k, [(i, pairs_of(f)) for i, f in v]) for k, v in pairs])
            ids.append(entry_id)
            data.append(fields[1])
        found[text(key)] = Columns(ids, data)
    return found, {}


def pairs_of(fields: Sequence[Any] | None) -> dict[Any, Any] | None:
    """A flat field list [k1, v1, k2, v2, ...] as a dict (None stays None)."""
    if fields is None:
        return None
    return dict(zip(fields[::2], fields[1::2], strict=True))


def columns_of(batch: Mapping[str, Sequence[Entry]]) -> dict[str, Columns]:
    """Entries as columns (each has a `d` field: the runtime checked)."""
    return {
        stream: Columns([e.id for e in entries], [e.fields[FIELD] for e in entries])
        for stream, entries in batch.items()
        if entries
    }


def entries_of(columns: Mapping[str, Columns]) -> dict[str, list[Entry]]:
    """Columns as entries, for the runtime's path one entry at a time (a failure's)."""
    return {
        stream: [
            Entry(stream, text(entry_id), {FIELD: data})
            for entry_id, data in zip(found.ids, found.data, strict=True)
        ]
        for stream, found in columns.items()
    }
