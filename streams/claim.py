"""Rescuing the work of dead consumers: XAUTOCLAIM, and deleting long-gone consumers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from streams.reader import Entry, parse_entries, text

REAP_SCRIPT = """
local removed = {}
for _, row in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #row, 2 do info[row[i]] = row[i + 1] end
  if info['pending'] == 0 and info['idle'] > tonumber(ARGV[2]) and info['name'] ~= ARGV[3] then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    removed[#removed + 1] = info['name']
  end
end
return removed
"""


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


async def autoclaim(
    redis: Redis,
    stream: str,
    group: str,
    consumer: str,
    *,
    min_idle_ms: int,
    cursor: str,
    count: int,
) -> Claimed:
    """Take over up to `count` entries of `stream` idle for at least `min_idle_ms`."""
    reply = await redis.xautoclaim(stream, group, consumer, min_idle_ms, cursor, count=count)
    claimed = parse_autoclaim(stream, reply)
    for entry in claimed.entries:
        entry.careful = True
    return claimed


class Reaper:
    """Deletes consumers idle longer than `max_idle_ms` with nothing pending, atomically.

    Every process start adds a consumer name; without this XINFO CONSUMERS grows forever.
    The check and the delete run in one script, so a consumer that just read an entry is
    never deleted with it.
    """

    def __init__(self, redis: Redis, group: str, consumer: str, max_idle_ms: int) -> None:
        self._script = redis.register_script(REAP_SCRIPT)
        self.group = group
        self.consumer = consumer
        self.max_idle_ms = max_idle_ms

    async def reap(self, stream: str) -> list[str]:
        """Delete the idle consumers of `stream`; returns their names."""
        names = await self._script(
            keys=[stream], args=[self.group, self.max_idle_ms, self.consumer]
        )
        return [text(name) for name in names]
