"""A ledger of numbered messages: each key's messages are numbered 0, 1, 2, …; the worker
counts them per key (`total`, not idempotent: a message processed twice counts twice),
keeps the highest number seen (`last`) and counts gaps (`gaps`: a number more than one
past the highest, i.e. a message never seen). Tables are read back from their changelogs.

`produce --count N --keys K` sends N messages over keys k0..k(K-1) (as faust's stress
apps' produce command does). With FAUST_TEST_PAUSED=1 the agent processes nothing, so
what the tables hold after start is exactly what recovery rebuilt; the worker then writes
it to `test:snapshot` once recovery is complete.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, cast

import orjson
import redis.asyncio as aioredis
from faust.cli import option
from faust.types import StreamT

from tests.eaflow.faust.apps.common import REDIS, create_app

app = create_app("ledger")
numbers = app.topic("ledger-in", key_type=str, value_serializer="json")
total = app.Table("total", default=int)
last = app.Table("last", default=lambda: -1)
gaps = app.Table("gaps", default=int)
PAUSED = os.environ.get("FAUST_TEST_PAUSED") == "1"


@app.agent(numbers)
async def tally(stream: StreamT[Any]) -> None:
    if PAUSED:
        await asyncio.Event().wait()
    async for key, number in stream.items():
        total[key] += 1
        if number > last[key] + 1:
            gaps[key] += 1
        if number > last[key]:
            last[key] = number


@app.timer(0.3)  # type: ignore[untyped-decorator]
async def snapshot() -> None:
    recovery: Any = cast(Any, app.tables).recovery
    if not PAUSED or not recovery.completed.is_set() or app.rebalancing:
        return
    tables = {name: dict(cast(Any, app.tables[name]).items()) for name in ("total", "last", "gaps")}
    client = aioredis.Redis.from_url(REDIS)
    try:
        await client.set("test:snapshot", orjson.dumps(tables))
    finally:
        await client.aclose()


@app.command(
    option("--count", type=int, default=1000),
    option("--keys", type=int, default=16),
    option("--pause-every", type=int, default=0, help="sleep 50 ms after so many"),
)
async def produce(self: Any, count: int, keys: int, pause_every: int) -> None:
    """Send `count` numbered messages over `keys` keys."""
    for i in range(count):
        await numbers.send(key=f"k{i % keys}", value=i // keys)
        if pause_every and not (i + 1) % pause_every:
            await asyncio.sleep(0.05)
    await app.producer.flush()
    print(f"sent {count}", flush=True)
