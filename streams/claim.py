"""Rescuing the work of dead consumers (XAUTOCLAIM) and deleting long-gone consumers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from streams.dlq import failure_fields
from streams.reader import Entry, load_failures, parse_entries, text

REAP_SCRIPT = """
local removed = {}
for n = 2, #ARGV do
  if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[n]) == 0 then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[n])
    removed[#removed + 1] = ARGV[n]
  end
end
return removed
"""
"""Delete the named consumers that own nothing now (ARGV: the group, then the names)."""


@dataclass(frozen=True, slots=True)
class Claimed:
    """What one XAUTOCLAIM call took over.

    `cursor` is where the next call starts ("0-0": the scan is complete). `vanished` counts
    claimed entries whose content is gone: Redis 6.2 answers them as (nil, nil) and keeps
    them pending; Redis 7 lists their ids in `deleted` and drops them itself.
    """

    cursor: str
    entries: list[Entry]
    vanished: int
    deleted: tuple[str, ...]


def parse_autoclaim(stream: str, reply: Sequence[Any]) -> Claimed:
    """Both reply forms: Redis 7 [cursor, entries, deleted_ids], Redis 6.2 [cursor, entries]."""
    if len(reply) not in (2, 3):
        raise ValueError(f"XAUTOCLAIM reply: expected 2 or 3 elements, got {len(reply)}")
    raw = list(reply[1] or ())
    deleted = tuple(text(entry_id) for entry_id in reply[2]) if len(reply) == 3 else ()
    vanished = sum(1 for entry_id, _ in raw if entry_id is None)
    return Claimed(text(reply[0]), parse_entries(stream, raw), vanished, deleted)


class Claimer:
    """Takes over entries idle too long in other (dead) consumers, stream by stream.

    It also deletes consumers idle longer than `max_idle_ms` with nothing pending: every
    process start adds a consumer name, and XINFO CONSUMERS would grow forever. The idle
    times come from the round's one XINFO CONSUMERS (`lease.DeadClaimer.others`); whether
    a consumer owns nothing is checked in the script that deletes it, so one that read an
    entry since is never deleted.
    """

    def __init__(
        self, redis: Redis, *, group: str, consumer: str, fails: Mapping[str, str],
        min_idle_ms: int, count: int, max_idle_ms: int,
    ) -> None:  # fmt: skip
        self.redis = redis
        self.group = group
        self.consumer = consumer
        self.fails = fails
        self.min_idle_ms = min_idle_ms
        self.count = count
        self.max_idle_ms = max_idle_ms
        self.cursors: dict[str, str] = {}
        self._reap = redis.register_script(REAP_SCRIPT)

    async def claim(self, stream: str) -> Claimed:
        """XAUTOCLAIM up to `count` entries of `stream`, continuing the previous scan.

        Claimed entries are `careful` and carry their recorded failures; the failure
        records of entries deleted meanwhile are dropped.
        """
        cursor = self.cursors.get(stream, "0-0")
        reply = await self.redis.xautoclaim(
            stream, self.group, self.consumer, self.min_idle_ms, cursor, count=self.count
        )
        claimed = parse_autoclaim(stream, reply)
        self.cursors[stream] = claimed.cursor
        if claimed.deleted:
            await self.redis.hdel(self.fails[stream], *failure_fields(claimed.deleted))
        for entry in claimed.entries:
            entry.careful = True
        await load_failures(self.redis, self.fails, claimed.entries)
        return claimed

    async def reap(self, stream: str, idle: Mapping[str, int]) -> list[str]:
        """Delete the consumers of `stream` idle (`idle`: name → ms, as XINFO CONSUMERS
        found them) longer than `max_idle_ms` that own nothing; returns their names."""
        long_idle = [name for name, ms in idle.items() if ms > self.max_idle_ms]
        if not long_idle:
            return []
        names = await self._reap(keys=[stream], args=[self.group, *long_idle])
        return [text(name) for name in names]
