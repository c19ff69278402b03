"""Trim `rtrs` below what every consumer group has acked, keeping a recent window.

Never by a fixed MAXLEN: that deletes results a stopped sink has not written yet. The
window (`keep` seconds) leaves recent results in the stream for `eaflow send --wait`, the
chart's markers and `eaflow replay`'s comparisons; older ones live in the databases.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

from streams import trim_acked
from streams.reader import stream_id, text


async def acked_floor(redis: Redis, key: str) -> str | None:
    """The lowest id some group still needs (its oldest pending entry, or the entry after
    the last one delivered to it); None when the stream has no groups.

    The floor only rises while the groups stay the same, so trimming below a floor read
    a moment ago is safe.
    """
    floor: tuple[int, int] | None = None
    for info in await redis.xinfo_groups(key):
        if int(info["pending"]) > 0:
            summary = await redis.xpending(key, info["name"])
            ms, seq = stream_id(text(summary["min"]))
        else:
            ms, seq = stream_id(text(info["last-delivered-id"]))
            seq += 1
        if floor is None or (ms, seq) < floor:
            floor = (ms, seq)
    return None if floor is None else f"{floor[0]}-{floor[1]}"


async def trim_results(redis: Redis, key: str, keep: float = 0.0) -> int:
    """Delete entries every group has acked and older than `keep` seconds; returns how many."""
    if keep <= 0:
        return await trim_acked(redis, key)
    floor = await acked_floor(redis, key)
    if floor is None:
        return 0
    cutoff = (int((time.time() - keep) * 1000), 0)
    target = min(stream_id(floor), cutoff)
    return int(await redis.xtrim(key, minid=f"{target[0]}-{target[1]}"))
