"""Signal → result latency through router and executor, beside raw Redis round trips.

Closed loop: one signal at a time is written to `rtss` and its result awaited on `rtrs`,
with the router and executor agents running in this process on a local redis-server.
The raw figures (PING round trip, XADD → XREADGROUP wake-up across two connections, and the
same chain of round trips with bare redis-py, bench/raw.py) come from the same server in
the same run, so the ratio is fair on a noisy machine.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import redis.asyncio as aioredis

from bench.common import percentiles, redis_server, report, run_sized
from bench.raw import ROUND_TRIPS, raw_chain
from eaflow.demo import seed_demo
from eaflow.install.pipeline import build_pipeline
from eaflow.install.workers import install
from eaflow.settings import Settings
from model.tick import Tick, encode_tick

PREFIX = "ea:"


async def raw_round_trips(url: str, n: int) -> dict[str, dict[str, float]]:
    client = aioredis.Redis.from_url(url)
    other = aioredis.Redis.from_url(url)
    pings = []
    for _ in range(n):
        start = time.perf_counter()
        await client.ping()
        pings.append(time.perf_counter() - start)
    await client.xgroup_create("raw", "g", id="$", mkstream=True)
    wakes = []
    for _ in range(n):
        reading: Any = other.xreadgroup("g", "c", {"raw": ">"}, count=10, block=1000)
        reader = asyncio.ensure_future(reading)
        await asyncio.sleep(0.0005)  # let the reader block first
        start = time.perf_counter()
        await client.xadd("raw", {"d": b"x"})
        await reader
        wakes.append(time.perf_counter() - start)
    await client.aclose()
    await other.aclose()
    return {"ping": percentiles(pings), "xadd_to_xreadgroup": percentiles(wakes)}


async def commands_processed(client: aioredis.Redis) -> int:
    return int((await client.info("stats"))["total_commands_processed"])


async def eaflow_latency(url: str, instances: int, n: int) -> dict[str, Any]:
    client = aioredis.Redis.from_url(url)
    await client.flushall()
    pipeline = build_pipeline(Settings(redis_url=url, prefix=PREFIX), url)
    names = await seed_demo(pipeline.registry, url, PREFIX, instances)
    now_ms = int(time.time() * 1000)
    tick = Tick(
        time=now_ms // 1000,
        bid=1.38742,
        ask=1.38755,
        last=0.0,
        volume=0,
        time_msc=now_ms,
        flags=6,
        volume_real=0.0,
    )
    await client.xadd(f"{PREFIX}ticks:EURUSD", {"d": encode_tick(tick)})
    await install(pipeline, ["rtss", "orders"])
    await pipeline.app.start()
    await asyncio.sleep(1.0)  # first refresh of instances and symbols
    last = b"$"
    samples = []
    before = await commands_processed(client)
    for i in range(n):
        body = signal_body(i, names)
        start = time.perf_counter()
        await client.xadd(f"{PREFIX}rtss", {"d": orjson.dumps(body)})
        while True:
            entries: Any = await client.xread({f"{PREFIX}rtrs": last}, block=5000, count=10)
            if not entries:
                raise RuntimeError("no result within 5 s")
            last = entries[0][1][-1][0]
            if any(orjson.loads(f[b"d"])["order_id"] == body["order_id"] for _, f in entries[0][1]):
                break
        samples.append(time.perf_counter() - start)
    per_signal = (await commands_processed(client) - before) / n
    await pipeline.app.stop()
    await pipeline.close()
    await client.aclose()
    return {**percentiles(samples[n // 10 :]), "commands_per_signal": per_signal}


async def main(n: int, port: int) -> None:
    with redis_server(port) as url:
        raw = await raw_round_trips(url, n)
        raw["chain"] = await raw_chain(url, n)
        runs = {k: await eaflow_latency(url, k, n) for k in (1, 10)}
    rt, chain = raw["ping"]["p50_ms"], raw["chain"]
    rows = [
        {"what": "raw PING round trip", **_cols(raw["ping"]), "× RTT p50": 1.0},
        {
            "what": "raw XADD → XREADGROUP",
            **_cols(raw["xadd_to_xreadgroup"]),
            "× RTT p50": raw["xadd_to_xreadgroup"]["p50_ms"] / rt,
        },
        {
            "what": f"raw chain ({ROUND_TRIPS} round trips, 3 hops)",
            **_cols(chain),
            "× RTT p50": chain["p50_ms"] / rt,
        },
        *(
            {
                "what": f"eaflow signal → result, {k} instance(s)",
                **_cols(r),
                "× RTT p50": r["p50_ms"] / rt,
                "× chain p50": r["p50_ms"] / chain["p50_ms"],
                "× chain p99": r["p99_ms"] / chain["p99_ms"],
            }
            for k, r in runs.items()
        ),
    ]
    report(
        "latency",
        "signal → result latency (ms)",
        rows,
        {
            "raw": raw,
            "eaflow": runs,
            "commands_per_signal": {k: r["commands_per_signal"] for k, r in runs.items()},
        },
    )


def signal_body(i: int, names: list[str]) -> dict[str, Any]:
    """Signal `i`: each instance alternately opens a position and closes it, so its book
    stays small however long the run (as a strategy's entries and exits do)."""
    instance = names[i % len(names)]
    if (i // len(names)) % 2:
        return {
            "order_id": f"lat-{i}",
            "action": "close",
            "symbol": "EURUSD",
            "instances": [instance],
        }
    return {
        "order_id": f"lat-{i}",
        "symbol": "EURUSD",
        "order_type": "buy",
        "volume": "0.01",
        "instances": [instance],
    }


def _cols(p: dict[str, float]) -> dict[str, Any]:
    return {"p50": p["p50_ms"], "p95": p["p95_ms"], "p99": p["p99_ms"], "n": int(p["n"])}


if __name__ == "__main__":
    run_sized(main, __doc__, 1000, "signals per run")
