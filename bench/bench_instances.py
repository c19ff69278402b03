"""Many simulated instances: 500 ms config pulls and state syncs, CPU, RSS, Redis ops/s.

For 100, 500 and 1,000 instances an orders worker is installed in this process exactly as
`eaflow worker orders` installs it (executors, instance manager, state sync) on a local
redis-server, then measured while idle for a while: CPU of this process, its RSS, Redis
commands per second, and the worst gap between two state writes of one instance (the
target is 500 ms + 10%). Beside it, in the same run, a raw redis-py loop does the least
any implementation must do every 500 ms (one pipelined SET per instance's state and one
GET of the config revision), so the CPU ratio is fair on a noisy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from pathlib import Path
from tempfile import mkdtemp
from typing import Any

import orjson
import redis
import redis.asyncio as aioredis

from bench.common import redis_server, report, smoke_mode, stop_tasks
from brokers.sim.server import SimServer
from eaflow.demo import FIRST_LOGIN
from eaflow.install.pipeline import build_pipeline
from eaflow.install.workers import install
from eaflow.settings import Settings
from model import AccountState, InstanceSpec
from processors.registry import InstanceRegistry
from tests.redis_server import free_port

PREFIX = "ea:"
INTERVAL = 0.5
TARGET_GAP = INTERVAL * 1.1


def rss_mb() -> float:
    """Resident set size now (Linux /proc), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def redis_commands(client: aioredis.Redis) -> int:
    return int((await client.info("stats"))["total_commands_processed"])


async def seed(url: str, count: int) -> None:
    """`count` simulated accounts and their instance specs (as `eaflow run` makes them)."""
    client = redis.Redis.from_url(url)
    client.flushall()
    server = SimServer(client, prefix=PREFIX)
    specs = []
    for n in range(count):
        login = FIRST_LOGIN + n
        server.open_account(login, balance=10_000, currency="USD", leverage=100)
        specs.append(InstanceSpec(instance_id=f"bench-{n}", login=login, magic=n))
    client.close()
    async_client = aioredis.Redis.from_url(url)
    await InstanceRegistry(async_client, PREFIX).put(*specs)
    await async_client.aclose()


async def measure(seconds: float, client: aioredis.Redis) -> tuple[float, float, float]:
    """(CPU share of one core, Redis commands/s, wall seconds) over `seconds`."""
    cpu, wall, commands = time.process_time(), time.monotonic(), await redis_commands(client)
    await asyncio.sleep(seconds)
    wall = time.monotonic() - wall
    return (
        (time.process_time() - cpu) / wall,
        (await redis_commands(client) - commands) / wall,
        wall,
    )


async def eaflow_run(url: str, count: int, seconds: float) -> dict[str, Any]:
    await seed(url, count)
    settings = Settings(redis_url=url, prefix=PREFIX, data_dir=Path(mkdtemp()), spawn="")
    pipeline = build_pipeline(settings, url)
    started = time.monotonic()
    await install(pipeline, ["orders"])
    await pipeline.app.start()
    setup = time.monotonic() - started
    task = next(t for t in pipeline.app.tasks if t.name == "instance-manager")
    sync = task.fn.__self__.sync  # type: ignore[attr-defined]
    client = aioredis.Redis.from_url(url)
    await asyncio.sleep(3 * INTERVAL)  # warm up: every instance running and synced once
    sync.worst_gap = 0.0
    cpu, ops, wall = await measure(seconds, client)
    worst = sync.worst_gap
    synced = len(sync.last_sync)
    rss = rss_mb()
    await pipeline.app.stop()
    await pipeline.close()
    await client.aclose()
    return {
        "cpu": cpu,
        "rss_mb": rss,
        "redis_ops": ops,
        "worst_gap_ms": worst * 1000,
        "synced": synced,
        "setup_s": setup,
        "wall_s": wall,
    }


async def raw_run(url: str, count: int, seconds: float) -> dict[str, Any]:
    """The floor: every 500 ms one GET of the revision and a pipelined SET per instance."""
    client = aioredis.Redis.from_url(url)
    other = aioredis.Redis.from_url(url)
    state = AccountState(
        instance="x",
        login=1,
        currency="USD",
        balance=1e4,
        equity=1e4,
        margin=0.0,
        margin_free=1e4,
        margin_level=0.0,
        profit=0.0,
    )
    payload = orjson.dumps(state.model_dump(mode="json"))
    keys = [f"{PREFIX}state:bench-{n}" for n in range(count)]
    worst, last = 0.0, 0.0

    async def loop() -> None:
        nonlocal worst, last
        start = time.monotonic()
        beat = 0
        while True:
            await client.get(f"{PREFIX}instances:rev")
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.set(key, payload)
            await pipe.execute()
            now = time.time()
            if last:
                worst = max(worst, now - last)
            last = now
            beat += 1
            await asyncio.sleep(max(0.0, start + beat * INTERVAL - time.monotonic()))

    task = asyncio.create_task(loop())
    await asyncio.sleep(2 * INTERVAL)
    worst = 0.0
    cpu, ops, wall = await measure(seconds, other)
    await stop_tasks([task])
    await client.aclose()
    await other.aclose()
    return {"cpu": cpu, "redis_ops": ops, "worst_gap_ms": worst * 1000, "wall_s": wall}


async def main(counts: list[int], seconds: float, port: int) -> None:
    rows, runs = [], {}
    with redis_server(port) as url:
        for count in counts:
            raw = await raw_run(url, count, seconds)
            eaflow = await eaflow_run(url, count, seconds)
            runs[count] = {"raw": raw, "eaflow": eaflow}
            rows.append(
                {
                    "instances": count,
                    "CPU %": eaflow["cpu"] * 100,
                    "raw CPU %": raw["cpu"] * 100,
                    "RSS MB": eaflow["rss_mb"],
                    "ops/s": eaflow["redis_ops"],
                    "raw ops/s": raw["redis_ops"],
                    "worst gap ms": eaflow["worst_gap_ms"],
                    "raw gap ms": raw["worst_gap_ms"],
                    "<=550": "yes" if eaflow["worst_gap_ms"] <= TARGET_GAP * 1000 else "NO",
                }
            )
    report(
        "instances",
        f"instances: {INTERVAL * 1000:.0f} ms config pulls and state syncs "
        f"({seconds:g} s measured each)",
        rows,
        {"runs": runs, "interval_s": INTERVAL},
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--counts", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per run")
    parser.add_argument("--port", type=int, default=0, help="redis-server port (0: free)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if smoke_mode(args.smoke):
        args.counts, args.seconds = [5], 1.0
    asyncio.run(main(args.counts, args.seconds, args.port or free_port()))
