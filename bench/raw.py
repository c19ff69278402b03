"""Raw Redis figures for the same work as a signal's path, measured in the same run.

`raw_chain` is the least any implementation of the pipeline must wait for: the same
sequential round trips and stream hops as a market order through eaflow, done with bare
redis-py calls and no logic (three tasks, three connections, one message at a time):

    client  XADD rtss ─────────────────────────────────────────────▶ XREAD rtrs (wake-up)
    router    XREADGROUP rtss (wake-up) → MULTI XADD orders + XACK
    executor  XREADGROUP orders (wake-up) → HGET record → XREVRANGE tick (price)
              → HGETALL account (check) → HSET record (sent) → HGETALL account + HSET
              account (send) → MULTI XADD rtrs + HSET + HDEL + XACK

`serve` runs the same router or executor as a process of its own (`python -m bench.raw
router|executor URL INSTANCE...`), one stream per instance as eaflow has them, so the raw
chain can take the same load as eaflow's processes (bench_webhook).

`raw_rates` is the throughput ceiling: pipelined XADD and XREADGROUP + XACK per second;
`bare_loop` one bare hop at full speed with its CPU per message; `three_hops` the floor of
signal → result (no reads but the hops).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from typing import Any

import orjson
import redis.asyncio as aioredis

from bench.common import percentiles, stop_tasks

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
        await stop_tasks(tasks)
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


async def redis_cpu(client: aioredis.Redis) -> float:
    """CPU seconds (user + system) the Redis server has used so far (INFO cpu)."""
    info = await client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


BARE_BODY = {
    "order_id": "bare-0",
    "symbol": "EURUSD",
    "order_type": "buy",
    "volume": "0.01",
    "instances": ["demo-1"],
}


async def bare_loop(url: str, n: int, count: int = 100) -> dict[str, float]:
    """One bare hop at full speed: XREADGROUP COUNT `count` → orjson decode (and encode) of
    each message → one pipelined XADD per message + XACK of the batch, over `n` messages
    written beforehand. Messages/s, and client and Redis CPU per message (µs); nothing else
    may run in this process meanwhile."""
    client = aioredis.Redis.from_url(url)
    source, target = "bare:in", "bare:out"
    await client.delete(source, target)
    await client.xgroup_create(source, "g", id="$", mkstream=True)
    for i in range(0, n, 500):
        pipe = client.pipeline(transaction=False)
        for j in range(i, min(n, i + 500)):
            pipe.xadd(source, {"d": orjson.dumps({**BARE_BODY, "order_id": f"bare-{j}"})})
        await pipe.execute()
    redis_before, cpu_before = await redis_cpu(client), time.process_time()
    start = time.perf_counter()
    done = 0
    while done < n:
        reply: Any = await client.xreadgroup("g", "c", {source: ">"}, count=count)
        entries = reply[0][1]
        pipe = client.pipeline(transaction=False)
        for _, fields in entries:
            message = orjson.loads(fields[b"d"])
            pipe.xadd(target, {"d": orjson.dumps(message)})
        pipe.xack(source, "g", *(entry_id for entry_id, _ in entries))
        await pipe.execute()
        done += len(entries)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_before
    redis_used = await redis_cpu(client) - redis_before
    await client.delete(source, target)
    await client.aclose()
    return {
        "messages": n,
        "msg_per_s": n / elapsed,
        "client_cpu_us_per_msg": 1e6 * cpu / n,
        "redis_cpu_us_per_msg": 1e6 * redis_used / n,
    }


async def three_hops(url: str, rate: float, n: int) -> dict[str, float]:
    """The floor of signal → result, open loop at `rate` per second (latency from when each
    message was due): client XADD → a router task XREADGROUP, then XADD + XACK in one
    round trip → an executor task XREADGROUP, then XADD result + XACK in one round trip →
    the client's blocked XREAD wakes. No other reads. p50/p95/p99 in ms."""
    sender, reader, router, executor = (aioredis.Redis.from_url(url) for _ in range(4))
    p = "floor:"
    for stream, group in ((f"{p}rtss", "router"), (f"{p}orders", "executor")):
        await sender.delete(stream)
        await sender.xgroup_create(stream, group, id="$", mkstream=True)
    await sender.delete(f"{p}rtrs")

    async def hop(client: aioredis.Redis, source: str, group: str, target: str) -> None:
        while True:
            reply: Any = await client.xreadgroup(group, "c", {source: ">"}, count=100, block=0)
            for _, entries in reply:
                pipe = client.pipeline(transaction=True)
                for _, fields in entries:
                    pipe.xadd(target, fields)
                pipe.xack(source, group, *(entry_id for entry_id, _ in entries))
                await pipe.execute()

    due: dict[bytes, float] = {}
    latencies: list[float] = []
    everything = asyncio.Event()
    last: Any = await sender.xadd(f"{p}rtrs", {"d": b"start"})

    async def collect() -> None:
        nonlocal last
        while True:
            reply: Any = await reader.xread({f"{p}rtrs": last}, block=0, count=100)
            now = time.perf_counter()
            for _, entries in reply:
                for entry_id, fields in entries:
                    latencies.append(now - due[fields[b"d"]])
                    last = entry_id
            if len(latencies) >= n:
                everything.set()

    tasks = [
        asyncio.create_task(hop(router, f"{p}rtss", "router", f"{p}orders")),
        asyncio.create_task(hop(executor, f"{p}orders", "executor", f"{p}rtrs")),
        asyncio.create_task(collect()),
    ]
    try:
        start = time.perf_counter()
        for i in range(n):
            at = start + i / rate
            if (pause := at - time.perf_counter()) > 0:
                await asyncio.sleep(pause)
            key = str(i).encode()
            due[key] = at
            await sender.xadd(f"{p}rtss", {"d": key})
        await asyncio.wait_for(everything.wait(), 30)
    finally:
        await stop_tasks(tasks)
        for c in (sender, reader, router, executor):
            await c.aclose()
    return percentiles(latencies[n // 10 :] if n >= 20 else latencies)


RAW = "raw:"  # the keys of the raw chain's processes


async def serve(url: str, role: str, instances: list[str]) -> None:
    """The raw chain's router (`rtss` → `orders:{instance}`) or executor (`orders:*` →
    `rtrs`), one entry at a time, until SIGTERM. A signal is JSON with `order_id` and
    `instances`; a result is JSON with `order_id` and `status`."""
    client = aioredis.Redis.from_url(url)
    p = RAW
    sources = [f"{p}rtss"] if role == "router" else [f"{p}orders:{i}" for i in instances]
    for stream in sources:
        with contextlib.suppress(aioredis.ResponseError):  # BUSYGROUP: a restart
            await client.xgroup_create(stream, role, id="$", mkstream=True)
    await client.hset(f"{p}acct", mapping={"balance": "10000", "version": "1"})
    await client.xadd(f"{p}ticks", {"d": b'{"bid":1.1,"ask":1.1001}'})
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    streams: Any = dict.fromkeys(sources, ">")
    while not stop.is_set():
        reply: Any = await client.xreadgroup(role, "c", streams, count=100, block=500)
        for stream, entries in reply or ():
            for entry_id, fields in entries:
                if role == "router":
                    body = orjson.loads(fields[b"d"])
                    pipe = client.pipeline(transaction=True)
                    pipe.xadd(f"{p}orders:{body['instances'][0]}", fields)
                    pipe.xack(stream, role, entry_id)
                    await pipe.execute()
                    continue
                await client.hget(f"{p}orec", entry_id)
                await client.xrevrange(f"{p}ticks", count=1)
                await client.hgetall(f"{p}acct")
                await client.hset(f"{p}osent", entry_id, b"sent")
                await client.hgetall(f"{p}acct")
                await client.hset(f"{p}acct", "version", entry_id)
                order_id = orjson.loads(fields[b"d"])["order_id"]
                result = orjson.dumps({"order_id": order_id, "status": "filled"})
                pipe = client.pipeline(transaction=True)
                pipe.xadd(f"{p}rtrs", {"d": result})
                pipe.hset(f"{p}orec", entry_id, b"filled")
                pipe.hdel(f"{p}osent", entry_id)
                pipe.xack(stream, role, entry_id)
                await pipe.execute()
    await client.aclose()


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("router", "executor"):
        raise SystemExit("usage: python -m bench.raw router|executor REDIS_URL [INSTANCE...]")
    asyncio.run(serve(sys.argv[2], sys.argv[1], sys.argv[3:]))
