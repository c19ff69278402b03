"""The pipeline under test as real processes: gateway, router and orders workers on one Redis.

Each runs as `python -m eaflow ...` exactly as a user would start it, with N simulated
instances (demo-1..N, 10,000 USD, 1:100) and one alert source whose rate limit is out of
the way. A feed task writes a EURUSD tick every 50 ms, as a live market would.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from eaflow.demo import seed_demo
from eaflow.gateway.sources import Source, SourceStore
from model.tick import Tick, encode_tick
from processors.registry import InstanceRegistry
from tests.redis_server import free_port

PREFIX = "ea:"


@dataclass
class Stack:
    """Running worker processes and what a sender needs to reach them."""

    url: str
    port: int
    secret: str
    instances: list[str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    logs: Path = Path()

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) each worker process has used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        used = {}
        for name, process in zip(self.names, self.processes, strict=True):
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[name] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return used

    def check_alive(self) -> None:
        for name, process in zip(self.names, self.processes, strict=True):
            if process.poll() is not None:
                text = (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"eaflow {name} exited:\n{text}")


def eaflow(stack: Stack, name: str, args: list[str], env: dict[str, str]) -> None:
    """Start `python -m eaflow ARGS` with its output in `{logs}/{name}.log`."""
    with open(stack.logs / f"{name}.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "eaflow", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    stack.processes.append(process)
    stack.names.append(name)


async def start_stack(url: str, instances: int, workdir: Path, layout: str = "split") -> Stack:
    """Seed, start the workers (`split`: one process per worker topic; `single`: one
    process for all), and return once every instance's executor reads its stream."""
    client = aioredis.Redis.from_url(url)
    await client.flushall()
    names = await seed_demo(InstanceRegistry(client, PREFIX), url, PREFIX, instances)
    secret = secrets.token_urlsafe(24)
    await SourceStore(client, PREFIX).put(
        Source(name="tradingview", secret=secret, rate_limit=100_000)
    )
    await client.xadd(f"{PREFIX}ticks:EURUSD", {"d": encode_tick(tick_now(0))})
    stack = Stack(url, free_port(), secret, names, logs=workdir)
    env = {
        **os.environ,
        "EAFLOW_DATA_DIR": str(workdir),
        "EAFLOW_HTTP_PORT": str(stack.port),
        "EAFLOW_GATEWAY_ALLOW": "loopback",
    }
    common = ["--redis", url, "--prefix", PREFIX, "--log-format", "json"]
    if layout == "single":
        eaflow(stack, "all", ["worker", "gateway", "rtss", "orders", *common], env)
    else:
        eaflow(stack, "gateway", ["gateway", "--port", str(stack.port), *common[:4]], env)
        eaflow(stack, "router", ["worker", "rtss", *common], env)
        eaflow(stack, "executor", ["worker", "orders", *common], env)
    try:
        await ready(client, stack)
    except BaseException:
        stack.stop()
        raise
    finally:
        await client.aclose()
    return stack


async def ready(client: aioredis.Redis, stack: Stack, within: float = 90.0) -> None:
    deadline = time.monotonic() + within
    while True:
        stack.check_alive()
        if await _groups_ready(client, stack.instances) and await _listening(stack.port):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"workers not ready after {within:.0f} s (logs: {stack.logs})")
        await asyncio.sleep(0.2)


async def _groups_ready(client: aioredis.Redis, instances: list[str]) -> bool:
    pipe = client.pipeline(transaction=False)
    pipe.exists(f"{PREFIX}rtss")
    for instance in instances:
        pipe.exists(f"{PREFIX}orders:{instance}")
    if not all(await pipe.execute()):
        return False
    pipe = client.pipeline(transaction=False)
    pipe.xinfo_groups(f"{PREFIX}rtss")
    for instance in instances:
        pipe.xinfo_groups(f"{PREFIX}orders:{instance}")
    return all(len(groups) > 0 for groups in await pipe.execute())


async def _listening(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


def tick_now(n: int) -> Tick:
    """A quote moving a point up or down every tick (within 5 points of 1.08742)."""
    now_ms = int(time.time() * 1000)
    bid = round(1.08742 + abs((n % 10) - 5) * 0.00001, 5)
    return Tick(now_ms // 1000, bid, round(bid + 0.00013, 5), 0.0, 0, now_ms, 6, 0.0)


async def feed(url: str, stop: asyncio.Event, every: float = 0.05) -> None:
    """A live EURUSD quote every `every` seconds until `stop` is set."""
    client = aioredis.Redis.from_url(url)
    n = 0
    while not stop.is_set():
        n += 1
        fields: Any = {"d": encode_tick(tick_now(n))}
        await client.xadd(f"{PREFIX}ticks:EURUSD", fields, maxlen=1000, approximate=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
    await client.aclose()
