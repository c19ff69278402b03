"""Raw Redis figures for the same work as a signal's path, measured in the same run.

`raw_chain` is the least any implementation of the pipeline must wait for: the same
sequential round trips and stream hops as a market order through eaflow, done with bare
redis-py calls and no logic (three tasks, three connections, one message at a time):

    client  XADD rtss ─────────────────────────────────────────────▶ XREAD rtrs (wake-up)
    router    XREADGROUP rtss (wake-up) → MULTI XADD orders + XACK
    executor  XREADGROUP orders (wake-up) → HGET record → XREVRANGE tick (price)
              → HGETALL account (check) → HSET record (sent) → HGETALL account + HSET
              account (send) → MULTI XADD rtrs + HSET + HDEL + XACK

`raw_rates` is the throughput ceiling: pipelined XADD and XREADGROUP + XACK per second.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis.asyncio as aioredis

from bench.common import percentiles

ROUND_TRIPS = 12  # the client's 2, the router's 2, the executor's 8 (see above)


async def raw_chain(url: str, n: int) -> dict[str, float]:
    """Closed loop over the chain above; p50/p95/p99 in ms."""
    client, router, executor = (aioredis.Redis.from_url(url) for _ in range(3))
    p = "raw:"
    for stream, group in ((f"{p}rtss", "router"), (f"{p}orders", "executor")):
        await client.delete(stream)
        await client.xgroup_create(stream, group, id="$", mkstream=True)
    await client.hset(f"{p}acct", mapping={"balance": "10000", "version": "1"})
    await client.xadd(f"{p}ticks", {"d": b'{"bid":1.1,"ask":1.1001}'})

    async def route() -> None:
        while True:
            reply: Any = await router.xreadgroup("router", "r", {f"{p}rtss": ">"}, block=0)
            for _, entries in reply:
                for entry_id, fields in entries:
                    pipe = router.pipeline(transaction=True)
                    pipe.xadd(f"{p}orders", fields)
                    pipe.xack(f"{p}rtss", "router", entry_id)
                    await pipe.execute()

    async def execute() -> None:
        while True:
            reply: Any = await executor.xreadgroup("executor", "e", {f"{p}orders": ">"}, block=0)
            for _, entries in reply:
                for entry_id, fields in entries:
                    await executor.hget(f"{p}orec", entry_id)
                    await executor.xrevrange(f"{p}ticks", count=1)
                    await executor.hgetall(f"{p}acct")
                    await executor.hset(f"{p}osent", entry_id, b"sent")
                    await executor.hgetall(f"{p}acct")
                    await executor.hset(f"{p}acct", "version", entry_id)
                    pipe = executor.pipeline(transaction=True)
                    pipe.xadd(f"{p}rtrs", fields)
                    pipe.hset(f"{p}orec", entry_id, b"filled")
                    pipe.hdel(f"{p}osent", entry_id)
                    pipe.xack(f"{p}orders", "executor", entry_id)
                    await pipe.execute()

    tasks = [asyncio.create_task(route()), asyncio.create_task(execute())]
    last: Any = await client.xadd(f"{p}rtrs", {"d": b"start"})
    samples = []
    try:
        for i in range(n):
            start = time.perf_counter()
            await client.xadd(f"{p}rtss", {"d": str(i).encode()})
            reply: Any = await client.xread({f"{p}rtrs": last}, block=5000)
            if not reply:
                raise RuntimeError("raw chain: no result within 5 s")
            last = reply[0][1][-1][0]
            samples.append(time.perf_counter() - start)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for c in (client, router, executor):
            await c.aclose()
    return percentiles(samples[n // 10 :])


async def raw_rates(url: str, n: int = 50_000, batch: int = 500) -> dict[str, float]:
    """Messages per second: pipelined XADD, then XREADGROUP COUNT `batch` + XACK."""
    client = aioredis.Redis.from_url(url)
    key = "raw:rate"
    await client.delete(key)
    await client.xgroup_create(key, "g", id="$", mkstream=True)
    body: Any = {"d": b'{"symbol":"EURUSD","order_type":"buy","volume":"0.01"}'}
    start = time.perf_counter()
    for i in range(0, n, batch):
        pipe = client.pipeline(transaction=False)
        for _ in range(min(batch, n - i)):
            pipe.xadd(key, body)
        await pipe.execute()
    xadd = n / (time.perf_counter() - start)
    start = time.perf_counter()
    read = 0
    while read < n:
        reply: Any = await client.xreadgroup("g", "c", {key: ">"}, count=batch)
        ids = [entry_id for _, entries in reply for entry_id, _ in entries]
        await client.xack(key, "g", *ids)
        read += len(ids)
    xreadgroup = n / (time.perf_counter() - start)
    await client.delete(key)
    await client.aclose()
    return {"xadd_per_s": xadd, "xreadgroup_ack_per_s": xreadgroup}
