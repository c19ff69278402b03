"""The pipeline under test as real processes: gateway, router and orders workers on one Redis.

Each runs as `python -m eaflow ...` exactly as a user would start it, with N simulated
instances (demo-1..N, 10,000 USD, 1:100) and one alert source whose rate limit is out of
the way. A feed task writes a EURUSD tick every 50 ms, as a live market would.

The executors can run in several processes: `eaflow worker orders --processes N` when the
installed eaflow has that option, else (said in `Stack.note`) N `eaflow worker orders
--instance ...` processes, each hosting a contiguous share of the instances, as an operator
would split them by hand.
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
from functools import cache
from pathlib import Path
from typing import Any

import orjson
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
    note: str = ""  # how the executors were split, when not by `--processes`

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
        """CPU time (user + system) each worker process has used so far, with the processes
        it started (`--processes N` children, live or ended)."""
        stats = _proc_stats()
        return {
            name: tree_cpu(process.pid, stats)
            for name, process in zip(self.names, self.processes, strict=True)
        }

    def check_alive(self) -> None:
        for name, process in zip(self.names, self.processes, strict=True):
            if process.poll() is not None:
                text = (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"eaflow {name} exited:\n{text}")


def _proc_stats() -> dict[int, tuple[int, float]]:
    """pid → (parent pid, CPU seconds of it and its ended, waited-for children) from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        # after the name: state ppid ... utime(11) stime(12) cutime(13) cstime(14)
        cpu = sum(int(f) for f in fields[11:15]) / ticks
        stats[int(entry.name)] = (int(fields[1]), cpu)
    return stats


def tree_cpu(pid: int, stats: dict[int, tuple[int, float]] | None = None) -> float:
    """CPU seconds of process `pid` and all its descendants (0 if it has ended)."""
    stats = _proc_stats() if stats is None else stats
    children: dict[int, list[int]] = {}
    for child, (parent, _) in stats.items():
        children.setdefault(parent, []).append(child)
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        if current in stats:
            total += stats[current][1]
        todo += children.get(current, [])
    return total


@cache
def supports_processes() -> bool:
    """Whether the installed `eaflow worker` takes `--processes N`."""
    help_text = subprocess.run(
        [sys.executable, "-m", "eaflow", "worker", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    ).stdout
    return "--processes" in help_text


def eaflow(stack: Stack, name: str, args: list[str], env: dict[str, str]) -> None:
    """Start `python -m eaflow ARGS` with its output in `{logs}/{name}.log`."""
    spawn(stack, name, [sys.executable, "-m", "eaflow", *args], env)


def spawn(stack: Stack, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
    """Start `argv` as one of the stack's processes, its output in `{logs}/{name}.log`."""
    with open(stack.logs / f"{name}.log", "wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
    stack.processes.append(process)
    stack.names.append(name)


async def start_stack(
    url: str,
    instances: int,
    workdir: Path,
    layout: str = "split",
    processes: int = 1,
    gateway: bool = True,
    within: float = 90.0,
) -> Stack:
    """Seed, start the workers (`split`: one process per worker topic, the executors in
    `processes` processes; `single`: one process for all), and return once every instance's
    executor reads its stream. Without `gateway` no HTTP server runs."""
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
        topics = ["gateway", "rtss", "orders"] if gateway else ["rtss", "orders"]
        eaflow(stack, "all", ["worker", *topics, *common], env)
    else:
        if gateway:
            eaflow(stack, "gateway", ["gateway", "--port", str(stack.port), *common[:4]], env)
        eaflow(stack, "router", ["worker", "rtss", *common], env)
        start_executors(stack, processes, common, env)
    try:
        await ready(client, stack, within, http=gateway)
    except BaseException:
        stack.stop()
        raise
    finally:
        await client.aclose()
    return stack


def start_executors(stack: Stack, processes: int, common: list[str], env: dict[str, str]) -> None:
    """`eaflow worker orders`, with `--processes N` when N > 1 and eaflow has it, else N
    processes each hosting a contiguous share of the instances (`--instance`)."""
    if processes <= 1:
        eaflow(stack, "executor", ["worker", "orders", *common], env)
    elif supports_processes():
        eaflow(stack, "executor", ["worker", "orders", "--processes", str(processes), *common], env)
    else:
        stack.note = (
            f"this eaflow has no `worker orders --processes`: {processes} "
            "`eaflow worker orders --instance ...` processes instead"
        )
        share = -(-len(stack.instances) // processes)
        for n in range(processes):
            hosted = stack.instances[n * share : (n + 1) * share]
            chosen = [arg for instance in hosted for arg in ("--instance", instance)]
            eaflow(stack, f"executor-{n + 1}", ["worker", "orders", *chosen, *common], env)


async def ready(
    client: aioredis.Redis, stack: Stack, within: float = 90.0, http: bool = True
) -> None:
    deadline = time.monotonic() + within
    while True:
        stack.check_alive()
        if await _groups_ready(client, stack.instances) and (
            not http or await _listening(stack.port)
        ):
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


@dataclass
class Results:
    """Follows a results stream (`rtrs`) from the end: order_id → (arrival, status).

    `tag`: order ids of the current step start with it (`tagged` counts them, `statuses`
    their statuses); `watch` (and `watch_prefix`): signal ids whose every result is kept in
    `by_signal` (broadcasts, where one signal has a result per instance under one order id).
    """

    client: aioredis.Redis
    stream: str = f"{PREFIX}rtrs"
    last: Any = b"$"
    arrived: dict[str, tuple[float, str]] = field(default_factory=dict)
    freed: asyncio.Event = field(default_factory=asyncio.Event)
    tag: str = ""
    tagged: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)  # "status: error" → count
    watch: set[str] = field(default_factory=set)
    watch_prefix: str = ""  # and every signal id that starts with it (when not empty)
    by_signal: dict[str, list[tuple[float, str, str]]] = field(default_factory=dict)

    def start_step(self, tag: str) -> None:
        self.tag, self.tagged = tag, 0
        self.statuses.clear()
        self.errors.clear()

    async def run(self) -> None:
        while True:
            reply: Any = await self.client.xread({self.stream: self.last}, block=1000, count=1000)
            now = time.perf_counter()
            for _, entries in reply or ():
                for entry_id, fields in entries:
                    self.last = entry_id
                    self.add(now, orjson.loads(fields[b"d"]))
            if reply:
                self.freed.set()

    def add(self, now: float, result: dict[str, Any]) -> None:
        # a webhook source's ids come back scoped to it (`tradingview/web-1`): the sent id
        order_id, status = result["order_id"].rpartition("/")[2], result["status"]
        self.arrived[order_id] = (now, status)
        signal_id = result.get("signal_id") or ""
        if signal_id in self.watch or (
            self.watch_prefix and signal_id.startswith(self.watch_prefix)
        ):
            entry = (now, status, result.get("instance", ""))
            self.by_signal.setdefault(signal_id, []).append(entry)
        if self.tag and order_id.startswith(self.tag):
            self.tagged += 1
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if result.get("error"):
                why = f"{status}: {str(result['error'])[:80]}"
                self.errors[why] = self.errors.get(why, 0) + 1

    def top_errors(self, n: int = 5) -> dict[str, int]:
        return dict(sorted(self.errors.items(), key=lambda e: -e[1])[:n])


async def backlog(client: aioredis.Redis, instances: list[str]) -> tuple[int, int]:
    """(router, executors): entries not yet read plus read but not acked."""
    pipe = client.pipeline(transaction=False)
    pipe.xinfo_groups(f"{PREFIX}rtss")
    for instance in instances:
        pipe.xinfo_groups(f"{PREFIX}orders:{instance}")
    replies = await pipe.execute()
    totals = [sum(int(g.get("lag") or 0) + int(g["pending"]) for g in r) for r in replies]
    return totals[0], sum(totals[1:])
