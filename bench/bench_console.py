"""The operator console's live overview: time to the first snapshot, update delay and the
gateway's CPU as consoles are added (issue 21: 500 instances, 20 open consoles).

`eaflow gateway` runs as its own process on a local redis-server holding `-n` simulated
instances (specs, reports, snapshots). A writer rewrites every instance's snapshot once a
second, so every row changes every round (the worst case); one snapshot's equity carries
the time it was written, so each console measures the delay from Redis to its screen's data.
For each phase (`--consoles`, e.g. 1 then 20 `GET /console/api/live` streams): the time each
stream took to its `snapshot` event with every row, the update delays, the events' bytes,
and the gateway's CPU (user + system, % of one core) over the phase. One reader serves every
console, so the CPU should grow with the bytes written, not with Redis reads.

    python -m bench.bench_console [-n 500] [--consoles 1 20] [--seconds 20] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import redis
import redis.asyncio as aioredis

from bench.common import percentiles, redis_server, report, smoke_mode, stop_tasks
from tests.eaflow.gateway.console.accounts import KEYS, seed_many, snapshot
from tests.redis_server import free_port

VIEWER = "bench-viewer-token-0123456789"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def write_snapshots(url: str, names: list[str], stop: asyncio.Event) -> int:
    """Every instance's snapshot once a second; the first's equity is the time written."""
    client = aioredis.Redis.from_url(url)
    rounds = 0
    try:
        while not stop.is_set():
            pipe = client.pipeline(transaction=False)
            for n, name in enumerate(names):
                equity = time.time() if n == 0 else 10_000.0 + rounds + n / 1000
                pipe.set(KEYS.state(name), snapshot(name, 1, equity=equity).model_dump_json())
            await pipe.execute()
            rounds += 1
            await asyncio.wait([asyncio.ensure_future(stop.wait())], timeout=1.0)
    finally:
        await client.aclose()
    return rounds


class Console:
    """One live stream, read as a browser would, with what it measured."""

    def __init__(self, watched: str, count: int) -> None:
        self.watched = watched
        self.count = count
        self.first: float | None = None  # seconds to the snapshot with every row
        self.delays: list[float] = []
        self.bytes = 0
        self.events = 0

    def seen(self, name: str, data: dict[str, Any], started: float) -> None:
        self.events += 1
        if name == "snapshot" and len(data["rows"]) >= self.count and self.first is None:
            self.first = time.perf_counter() - started
        for row in data["rows"]:
            if row["instance"] == self.watched and row["equity"] and row["equity"] > 1e9:
                self.delays.append(time.time() - row["equity"])

    async def run(self, http: httpx.AsyncClient, stop: asyncio.Event) -> None:
        started = time.perf_counter()
        async with http.stream("GET", "/console/api/live") as response:
            assert response.status_code == 200, response.status_code
            name = ""
            async for line in response.aiter_lines():
                self.bytes += len(line) + 1
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    self.seen(name, orjson.loads(line.removeprefix("data: ")), started)
                if stop.is_set():
                    return


async def phase(
    base: str, pid: int, consoles: int, names: list[str], seconds: float
) -> dict[str, Any]:
    stop = asyncio.Event()
    found = [Console(names[0], len(names)) for _ in range(consoles)]
    limits = httpx.Limits(max_connections=consoles + 4)
    headers = {"Authorization": f"Bearer {VIEWER}"}
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=None, limits=limits
    ) as http:
        before = cpu_seconds(pid)
        began = time.perf_counter()
        tasks = [asyncio.ensure_future(c.run(http, stop)) for c in found]
        await asyncio.sleep(seconds)
        stop.set()
        used = cpu_seconds(pid) - before
        elapsed = time.perf_counter() - began
        await stop_tasks(tasks)
    firsts = [c.first for c in found if c.first is not None]
    delays = [d for c in found for d in c.delays]
    return {
        "consoles": consoles,
        "instances": len(names),
        "first_snapshot": percentiles(firsts),
        "update_delay": percentiles(delays),
        "gateway_cpu_percent": 100 * used / elapsed,
        "kbytes_per_console_s": sum(c.bytes for c in found) / 1024 / consoles / elapsed,
        "events": sum(c.events for c in found),
        "complete_snapshots": len(firsts),
    }


async def measure(url: str, base: str, pid: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    names = [f"sim-{n:04d}" for n in range(1, args.n + 1)]
    stop = asyncio.Event()
    writer = asyncio.ensure_future(write_snapshots(url, names, stop))
    try:
        await asyncio.sleep(2)  # the writer's first rounds
        return [await phase(base, pid, c, names, args.seconds) for c in args.consoles]
    finally:
        stop.set()
        await writer


def start_gateway(url: str, data: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "EAFLOW_GATEWAY_VIEWER_TOKEN": VIEWER,
        "EAFLOW_DATA_DIR": data,
        "EAFLOW_GATEWAY_LIVE_PER_CLIENT": "1000",  # every console comes from 127.0.0.1 here
    }
    gateway = subprocess.Popen(
        [sys.executable, "-m", "eaflow", "gateway", "--redis", url, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).is_success:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    return gateway, base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=500, help="simulated instances")
    parser.add_argument("--consoles", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--seconds", type=float, default=20, help="length of each phase")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if smoke_mode(args.smoke):
        args.n, args.consoles, args.seconds = 20, [2], 3.0
    with redis_server(free_port()) as url, tempfile.TemporaryDirectory() as data:
        admin = redis.Redis.from_url(url)
        seed_many(admin, args.n)
        admin.close()
        gateway, base = start_gateway(url, data)
        try:
            rows = asyncio.run(measure(url, base, gateway.pid, args))
        finally:
            gateway.terminate()
            gateway.wait(10)
    table = [
        {
            "consoles": r["consoles"],
            "first snapshot p50 ms": r["first_snapshot"]["p50_ms"],
            "first snapshot max ms": r["first_snapshot"]["max_ms"],
            "update delay p50 ms": r["update_delay"]["p50_ms"],
            "update delay p99 ms": r["update_delay"]["p99_ms"],
            "gateway CPU %": r["gateway_cpu_percent"],
            "KiB/s per console": r["kbytes_per_console_s"],
        }
        for r in rows
    ]
    report(
        "console",
        f"console overview, {args.n} instances all changing each second",
        table,
        {"phases": rows},
    )
    for r in rows:
        assert r["complete_snapshots"] == r["consoles"], r


if __name__ == "__main__":
    main()
