"""Dead letters for operators: list the DLQs, read their entries, retry or purge them.

The runtime moves an entry that failed `max_deliveries` times (or could never be decoded)
to `{prefix}dlq:{topic}`, keeping its bytes (`d`), the stream key it came from, its group,
its original id, the last error and how many deliveries it had (see `streams/dlq.py`).
A retry appends the bytes anew to that stream and deletes the dead letter in one script,
so an entry is never both retried and kept, nor retried twice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from streams.reader import text

RETRY_SCRIPT = """
local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #found == 0 then return false end
local fields = found[1][2]
local d, stream
for i = 1, #fields, 2 do
  if fields[i] == 'd' then d = fields[i + 1] end
  if fields[i] == 'stream' then stream = fields[i + 1] end
end
if stream ~= KEYS[2] then
  return redis.error_reply('stream: dead letter belongs to ' .. tostring(stream))
end
if not d or d == '' then return redis.error_reply('d: dead letter has no data to retry') end
local id = redis.call('XADD', KEYS[2], '*', 'd', d)
redis.call('XDEL', KEYS[1], ARGV[1])
return id
"""


class UnknownDeadLetter(LookupError):
    """A DLQ or a dead letter id that does not exist."""


@dataclass(frozen=True, slots=True)
class DeadLetterQueue:
    """One DLQ: `name` is the stream it serves (`rtss`, `orders:demo-1`)."""

    name: str
    key: str
    count: int
    oldest_ms: int | None
    newest_ms: int | None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead letter: `id` in the DLQ, `entry_id` in the stream it came from."""

    id: str
    stream: str
    group: str
    entry_id: str
    error: str
    deliveries: int
    dead_at_ms: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Retried:
    """A dead letter put back: `new_id` is its entry in `stream`, or `error` says why not."""

    id: str
    stream: str
    new_id: str | None
    error: str | None = None


def parse_letter(entry_id: str, fields: Mapping[bytes, bytes]) -> DeadLetter:
    """A DLQ entry → DeadLetter; fields written by older versions may be missing."""

    def field(name: str) -> str:
        return text(fields.get(name.encode(), b""))

    deliveries = field("deliveries")
    dead_at = field("ts")
    return DeadLetter(
        id=entry_id,
        stream=field("stream"),
        group=field("group"),
        entry_id=field("id"),
        error=field("error"),
        deliveries=int(deliveries) if deliveries.isdigit() else 0,
        dead_at_ms=int(dead_at) if dead_at.isdigit() else int(entry_id.partition("-")[0]),
        data=fields.get(b"d", b""),
    )


class DeadLetters:
    """The DLQs under `prefix` on one Redis."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self._retry = redis.register_script(RETRY_SCRIPT)

    def key(self, name: str) -> str:
        """`rtss`, `dlq:rtss` or `ea:dlq:rtss` → `ea:dlq:rtss`."""
        name = name.removeprefix(self.prefix).removeprefix("dlq:")
        if not name:
            raise UnknownDeadLetter("stream: give the stream whose DLQ to use, e.g. rtss")
        return f"{self.prefix}dlq:{name}"

    async def queues(self) -> list[DeadLetterQueue]:
        """Every non-empty DLQ, by name."""
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", f"{self.prefix}dlq:") + "*"
        keys = sorted({text(k) async for k in self.redis.scan_iter(match=pattern, _type="stream")})
        found = []
        for key in keys:
            count = int(await self.redis.xlen(key))
            if count == 0:
                continue
            first: Any = await self.redis.xrange(key, count=1)
            last: Any = await self.redis.xrevrange(key, count=1)
            found.append(
                DeadLetterQueue(
                    name=key.removeprefix(f"{self.prefix}dlq:"),
                    key=key,
                    count=count,
                    oldest_ms=parse_letter(text(first[0][0]), first[0][1]).dead_at_ms,
                    newest_ms=parse_letter(text(last[0][0]), last[0][1]).dead_at_ms,
                )
            )
        return found

    async def entries(
        self, name: str, ids: Sequence[str] = (), count: int | None = None
    ) -> list[DeadLetter]:
        """The dead letters of `name`'s DLQ, oldest first: those of `ids`, else all (or the
        first `count`). UnknownDeadLetter names an id that is not there."""
        key = self.key(name)
        if not ids:
            raw: Any = await self.redis.xrange(key, count=count)
            return [parse_letter(text(i), f) for i, f in raw]
        letters = []
        for entry_id in ids:
            raw = await self.redis.xrange(key, entry_id, entry_id)
            if not raw:
                raise UnknownDeadLetter(f"id: no dead letter {entry_id} in {key}")
            letters.append(parse_letter(text(raw[0][0]), raw[0][1]))
        return letters

    async def retry(self, name: str, ids: Sequence[str] = ()) -> list[Retried]:
        """Put dead letters (those of `ids`, else all) back on their streams, oldest first.

        Each one moves in its own script: appended to its stream (a new id, so every
        consumer group of the stream reads it) and deleted from the DLQ, or neither.
        """
        key = self.key(name)
        done = []
        for letter in await self.entries(name, ids):
            if not letter.stream:
                done.append(Retried(letter.id, "", None, "stream: dead letter names no stream"))
                continue
            try:
                new_id = await self._retry(keys=[key, letter.stream], args=[letter.id])
            except ResponseError as error:  # the script refused this one: report, go on
                done.append(Retried(letter.id, letter.stream, None, str(error)))
                continue
            if new_id is None:  # retried or purged by someone else meanwhile
                done.append(Retried(letter.id, letter.stream, None, "id: already gone"))
            else:
                done.append(Retried(letter.id, letter.stream, text(new_id)))
        return done

    async def purge(self, name: str, ids: Sequence[str] = ()) -> int:
        """Delete dead letters (those of `ids`, else the whole DLQ); returns how many."""
        key = self.key(name)
        if ids:
            return int(await self.redis.xdel(key, *ids))
        pipe = self.redis.pipeline(transaction=True)  # counts exactly what it deletes
        pipe.xlen(key)
        pipe.delete(key)
        count, _ = await pipe.execute()
        return int(count)
