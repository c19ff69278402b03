"""Sink lag: how many results in `rtrs` each sink has not written yet."""

from __future__ import annotations

from collections.abc import Iterable

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from sinks.metrics import SINK_LAG
from streams.inspect import group_status
from streams.reader import text


async def sink_lag(redis: Redis, key: str, sinks: Iterable[str]) -> dict[str, int]:
    """Undelivered (lag) plus unacked (pending) results per sink group; sets the gauge.

    A sink whose group does not exist yet lags by the whole stream.
    """
    wanted = set(sinks)
    try:
        infos = await redis.xinfo_groups(key)
    except ResponseError:  # no stream yet: nothing to write
        infos = []
    lags = dict.fromkeys(wanted, int(await redis.xlen(key)))
    for info in infos:
        name = text(info["name"])
        if name in wanted:
            status = await group_status(redis, key, info)
            lags[name] = status.lag + status.pending
    for name, lag in lags.items():
        SINK_LAG.labels(name).set(lag)
    return lags
