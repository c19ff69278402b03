"""Sink lag: how many entries of its stream (`rtrs`, `trades`, `rts`) each sink has not
written yet."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from sinks.metrics import SINK_LAG
from streams.inspect import GroupStatus, group_status
from streams.reader import stream_id, text


async def sink_lag(redis: Redis, key: str, sinks: Iterable[str]) -> dict[str, int]:
    """Undelivered (lag) plus unacked (pending) entries of every group of `key` (each is a
    sink, plugins' included); sets the gauge. A named sink whose group does not exist yet
    lags by the whole stream."""
    try:
        infos = await redis.xinfo_groups(key)
    except ResponseError:  # no stream yet: nothing to write
        infos = []
    lags = dict.fromkeys(sinks, int(await redis.xlen(key)))
    for info in infos:
        status = await group_status(redis, key, info)
        lags[status.name] = status.lag + status.pending
    for name, lag in lags.items():
        SINK_LAG.labels(name).set(lag)
    return lags


@dataclass(frozen=True)
class SinkStatus:
    """A consumer group of `rtrs` (every one is a sink): results it has not written yet,
    and how long the oldest of them has waited (None when it is up to date)."""

    name: str
    unwritten: int
    oldest_age: float | None


async def sink_status(redis: Redis, key: str, groups: Iterable[GroupStatus]) -> list[SinkStatus]:
    """For `eaflow status`: the groups of `rtrs` as seen by `stream_status`."""
    found = []
    for group in groups:
        oldest: Any = None
        if group.pending:
            oldest = (await redis.xpending(key, group.name))["min"]
        elif group.lag:
            first: Any = await redis.xrange(key, min=f"({group.last_delivered_id}", count=1)
            oldest = first[0][0] if first else None
        age = None if oldest is None else max(0.0, time.time() - stream_id(text(oldest))[0] / 1000)
        found.append(SinkStatus(group.name, group.lag + group.pending, age))
    return found
