"""Orders at full load, a broadcast, latency and round trips, beside bare Redis in one run.

Real processes, started as an operator starts them (`eaflow worker rtss`, `eaflow worker
orders`, with `--processes N` for N > 1: bench/stack.py), N simulated instances, a EURUSD
tick every 50 ms; every signal is a real fill or close on the simulator. Signals go
straight into `rtss` (no HTTP). Each step is bounded: one whose backlog passes its limit
or that stops making progress ends early and says so.

a. Throughput: each instance alternately opens a 0.01-lot buy and closes it; pipelined
   XADDs keep `--window` signals per instance in flight; orders/s over `--seconds` after
   `--warmup`, and CPU per order of the orders worker(s) and the router (/proc, with
   their child processes) and of Redis (INFO cpu). Beside it, the bare loop of the same
   run: asyncio redis-py XREADGROUP COUNT 100 → orjson → pipelined XADD + XACK.
b. Broadcast: one signal with neither `instances` nor `group` (every active instance) to
   `--broadcast` instances: time from its XADD to the first, middle and last result.
c. Latency: open loop at `--rate` signals/s (latency from when a signal was due to its
   result in `rtrs`) beside the 3-hop floor at the same rate (client XADD → router task →
   executor task → client XREAD, bench/raw.py) and the raw chain of today's 12 sequential
   round trips (closed loop); and `eaflow run` (one process, its own
   tick replay, sinks and gateway) with `--run-instances` at `--run-rate` signals/s for
   `--run-seconds`: p50/p99 and whether a backlog builds.
d. Round trips per order type (open, SL/TP, close, pending limit, cancel): router and
   executor installed in this process (two pipelines, as bench_latency does) on one
   instance; every redis-py send counted and attributed by client name (bench/roundtrips.py):
   sequential round trips per side, sends, client commands and Redis commands (INFO,
   with those Lua scripts run); the median of `--repeats` orders of each type.

    python -m bench.bench_orders [--instances 100] [--seconds 10] [--processes 1 2]
        [--broadcast 1000] [--rate 50] [--run-rate 100] [--run-seconds 6] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis

from bench.common import (
    percentiles,
    print_table,
    redis_server,
    slope,
    smoke_mode,
    stop_tasks,
    write_json,
)
from bench.loadgen import Load, xadd_paced
from bench.raw import ROUND_TRIPS, bare_loop, raw_chain, redis_cpu, three_hops
from bench.roundtrips import Recorder, Send, recording, sequential
from bench.stack import (
    PREFIX,
    Results,
    Stack,
    backlog,
    eaflow,
    feed,
    ready,
    start_stack,
    supports_processes,
)
from eaflow.demo import seed_demo
from eaflow.install.pipeline import build_pipeline
from eaflow.install.workers import install
from eaflow.logging import configure_logging
from eaflow.settings import Settings
from model.tick import Tick, encode_tick
from tests.redis_server import free_port

RTSS = f"{PREFIX}rtss"
STEPS = ("throughput", "broadcast", "latency", "run", "roundtrips")
DRAIN = 30.0  # seconds a step may take to receive what it sent
STALL = 10.0  # seconds without a result before a loaded step gives up


def order_body(tag: str, j: int, instances: list[str]) -> tuple[str, bytes]:
    """Signal `j` goes to instance j mod N, which alternately opens a buy and closes it."""
    k = len(instances)
    order_id = f"{tag}-{j}"
    body: dict[str, object] = {"order_id": order_id, "symbol": "EURUSD",
                               "instances": [instances[j % k]]}  # fmt: skip
    if (j // k) % 2:
        body["action"] = "close"
    else:
        body.update(order_type="buy", volume="0.01")
    return order_id, orjson.dumps(body)


@dataclass
class Usage:
    """Counters at one moment of a step."""

    at: float
    results: int
    cpu: dict[str, float]
    redis: float
    bench: float


async def usage(stack: Stack, results: Results, client: aioredis.Redis) -> Usage:
    return Usage(
        time.perf_counter(),
        results.tagged,
        stack.cpu_seconds(),
        await redis_cpu(client),
        time.process_time(),
    )


def per_order(begin: Usage, end: Usage, orders: int) -> dict[str, float]:
    """CPU µs per order: orders worker(s), router, Redis, this process (load + collector)."""
    used = {k: end.cpu.get(k, 0.0) - v for k, v in begin.cpu.items()}
    n = max(orders, 1)
    return {
        "orders_worker": 1e6 * sum(v for k, v in used.items() if k.startswith("executor")) / n,
        "router": 1e6 * used.get("router", 0.0) / n,
        "redis": 1e6 * (end.redis - begin.redis) / n,
        "bench": 1e6 * (end.bench - begin.bench) / n,
    }


async def drain(results: Results, expected: int, stack: Stack, within: float = DRAIN) -> int:
    """Wait until `expected` results of the step arrived (at most `within` s); returns how
    many are missing."""
    deadline = time.perf_counter() + within
    while results.tagged < expected and time.perf_counter() < deadline:
        stack.check_alive()
        await asyncio.sleep(0.1)
    return max(0, expected - results.tagged)


async def max_load(
    stack: Stack, results: Results, seconds: float, warmup: float, window: int, tag: str
) -> dict[str, Any]:
    """As many orders as the pipeline takes with `window` signals in flight: orders/s and
    CPU per order over `seconds` after `warmup`."""
    client = aioredis.Redis.from_url(stack.url)
    results.start_step(f"{tag}-")
    stop = asyncio.Event()
    written = 0

    async def write() -> None:
        nonlocal written
        while not stop.is_set():
            results.freed.clear()
            room = window - (written - results.tagged)
            if room <= 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(results.freed.wait(), 0.5)
                continue
            pipe = client.pipeline(transaction=False)
            for _ in range(min(room, 500)):
                _, body = order_body(tag, written, stack.instances)
                pipe.xadd(RTSS, {"d": body})
                written += 1
            await pipe.execute()

    writer = asyncio.create_task(write())
    start = time.perf_counter()
    progress, seen = start, 0
    begin: Usage | None = None
    end: Usage | None = None
    stalled = False
    per_second: list[tuple[float, int]] = []
    try:
        while end is None:
            await asyncio.sleep(0.25)
            stack.check_alive()
            now = time.perf_counter()
            if results.tagged != seen:
                progress, seen = now, results.tagged
            elif now - progress > STALL:
                stalled = True
                end = await usage(stack, results, client)
                break
            per_second.append((round(now - start, 2), results.tagged))
            if begin is None and now - start >= warmup:
                begin = await usage(stack, results, client)
            elif begin is not None and now - begin.at >= seconds:
                end = await usage(stack, results, client)
    finally:
        stop.set()
        await asyncio.gather(writer, return_exceptions=True)
    assert end is not None
    begin = begin or Usage(start, 0, {k: 0.0 for k in end.cpu}, end.redis, end.bench)
    missing = await drain(results, written, stack)
    await client.aclose()
    orders = end.results - begin.results
    elapsed = end.at - begin.at
    return {
        "orders": orders,
        "seconds": elapsed,
        "orders_per_s": orders / elapsed if elapsed > 0 else 0.0,
        "cpu_us_per_order": per_order(begin, end, orders),
        "written": written,
        "undrained": missing,
        "stalled": stalled,
        "window": window,
        "statuses": dict(results.statuses),
        "errors": results.top_errors(),
        "results_over_time": per_second,
    }


def broadcast_body(tag: str, j: int) -> tuple[str, bytes]:
    """Signal `j` to every active instance (no `instances`, no `group`, as `eaflow send`
    sends by default): all open a buy, then all close it."""
    order_id = f"{tag}-{j}"
    body: dict[str, object] = {"order_id": order_id, "signal_id": order_id, "symbol": "EURUSD"}
    if j % 2:
        body["action"] = "close"
    else:
        body.update(order_type="buy", volume="0.01")
    return order_id, orjson.dumps(body)


async def open_loop(
    stack: Stack,
    results: Results,
    rate: float,
    seconds: float,
    tag: str,
    to_every_instance: bool = False,
) -> dict[str, Any]:
    """`rate` signals/s for `seconds`, one XADD each when due; latency from when a signal
    was due to its result (to its last result when it goes `to_every_instance`). Backlog =
    signals sent without all their results yet, sampled every 0.5 s; sending stops when it
    passes max(300, rate)."""
    client = aioredis.Redis.from_url(stack.url)
    results.start_step(f"{tag}-")
    per_signal = len(stack.instances) if to_every_instance else 1
    if to_every_instance:
        results.watch_prefix = f"{tag}-"
    load, stop = Load(), asyncio.Event()
    overload = max(300, int(rate))
    samples: list[tuple[float, int, int, int]] = []

    async def sample() -> None:
        while True:
            router, executors = await backlog(client, stack.instances)
            in_flight = -(-(len(load.sent) * per_signal - results.tagged) // per_signal)
            samples.append((time.perf_counter(), router, executors, in_flight))
            if in_flight > overload:
                stop.set()
            await asyncio.sleep(0.5)

    sampler = asyncio.create_task(sample())
    cpu_before = stack.cpu_seconds()
    started = time.perf_counter()
    count = max(1, int(rate * seconds))
    planned = (
        broadcast_body(tag, j) if to_every_instance else order_body(tag, j, stack.instances)
        for j in range(count)
    )
    await xadd_paced(client, RTSS, planned, rate, load, stop)
    sent_for = time.perf_counter() - started
    missing = await drain(results, len(load.sent) * per_signal, stack)
    cpu = {k: v - cpu_before.get(k, 0.0) for k, v in stack.cpu_seconds().items()}
    await stop_tasks([sampler])
    await client.aclose()
    results.watch_prefix = ""
    finished: dict[str, float] = {}  # signal → when its last result came
    for order_id in load.sent:
        if to_every_instance:
            got = results.by_signal.get(order_id, [])
            if len(got) >= per_signal:
                finished[order_id] = max(t for t, _, _ in got)
        elif order_id in results.arrived:
            finished[order_id] = results.arrived[order_id][0]
    latencies = [t - load.sent[o].due for o, t in finished.items()]
    last = max(finished.values(), default=started)
    during = [(t - started, float(f)) for t, _, _, f in samples if t <= started + sent_for]
    growth = slope(during)
    done = len(latencies)
    return {
        "rate": rate,
        "to_every_instance": to_every_instance,
        "orders_per_signal": per_signal,
        "sent": len(load.sent),
        "send_errors": load.errors,
        "results": done,  # signals with all their results
        "achieved_per_s": done / (last - started) if last > started else 0.0,
        "latency": percentiles(latencies) if latencies else {},
        "statuses": dict(results.statuses),
        "errors": results.top_errors(),
        "backlog_max": max((int(f) for _, f in during), default=0),
        "backlog_growth_per_s": growth,
        "stopped_early": stop.is_set(),
        "undrained": missing,
        "sustained": not stop.is_set() and not missing and growth < 0.05 * rate,
        "cpu_us_per_signal": {k: 1e6 * v / max(1, done) for k, v in cpu.items()},
        "backlog": [(round(t - started, 2), r, e, f) for t, r, e, f in samples],
    }


@dataclass
class Running:
    """A started stack with its tick feed and result collector."""

    stack: Stack
    results: Results
    feeder: asyncio.Task[None]
    stop_feed: asyncio.Event
    collector: asyncio.Task[None]

    @classmethod
    async def start(cls, url: str, instances: int, processes: int, within: float) -> Running:
        workdir = Path(tempfile.mkdtemp(prefix="bench-orders-"))
        stack = await start_stack(
            url, instances, workdir, processes=processes, gateway=False, within=within
        )
        stop_feed = asyncio.Event()
        feeder = asyncio.create_task(feed(url, stop_feed))
        results = Results(aioredis.Redis.from_url(url))
        collector = asyncio.create_task(results.run())
        return cls(stack, results, feeder, stop_feed, collector)

    async def stop(self, keep_logs: bool) -> None:
        """Stop everything; the workers' logs stay (and are named) only after a failure."""
        self.stop_feed.set()
        await stop_tasks([self.collector])
        await asyncio.gather(self.feeder, return_exceptions=True)
        await self.results.client.aclose()
        finish(self.stack, keep_logs)


def finish(stack: Stack, keep_logs: bool) -> None:
    stack.stop()
    if keep_logs:
        print(f"  worker logs: {stack.logs}", flush=True)
    else:
        shutil.rmtree(stack.logs, ignore_errors=True)


async def throughput_and_latency(args: argparse.Namespace, url: str) -> dict[str, Any]:
    """Steps a and c (open loop) on `--instances` instances, for each `--processes`."""
    out: dict[str, Any] = {"runs": [], "latency": None, "floor": None, "chain": None}
    for processes in args.processes:
        latency = "latency" in args.steps and processes == args.processes[0]
        if not latency and "throughput" not in args.steps:
            continue
        print(f"  {args.instances} instances, {processes} orders process(es): starting", flush=True)
        running = await Running.start(url, args.instances, processes, 180)
        stack, results = running.stack, running.results
        failed = True
        try:
            await open_loop(stack, results, 20, 1.0, f"warm{processes}")  # first orders
            if latency:
                n = max(2, int(args.rate * args.latency_seconds))
                out["chain"] = await raw_chain(url, min(n, 500))
                out["floor"] = await three_hops(url, args.rate, n)
                out["latency"] = await open_loop(
                    stack, results, args.rate, args.latency_seconds, "lat"
                )
                out["latency"]["instances"] = args.instances
                print(f"  latency at {args.rate:g}/s: {_brief(out['latency'])}", flush=True)
            if "throughput" in args.steps:
                window = args.window * args.instances
                run = await max_load(
                    stack, results, args.seconds, args.warmup, window, f"max{processes}"
                )
                run.update(processes=processes, instances=args.instances, note=stack.note)
                out["runs"].append(run)
                print(
                    f"  max load, {processes} process(es): {run['orders_per_s']:,.0f} orders/s"
                    f"{' STALLED' if run['stalled'] else ''}, {run['statuses']}",
                    flush=True,
                )
            failed = False
        finally:
            await running.stop(keep_logs=failed)
    return out


async def broadcast(args: argparse.Namespace, url: str) -> list[dict[str, Any]]:
    """Step b: open and close broadcasts to `--broadcast` instances (the first pair cold)."""
    rows = []
    for processes in args.broadcast_processes:
        print(f"  {args.broadcast} instances, {processes} process(es): starting", flush=True)
        running = await Running.start(url, args.broadcast, processes, 600)
        stack, results = running.stack, running.results
        client = aioredis.Redis.from_url(url)
        failed = True
        try:
            for round_ in ("cold", "warm"):
                for action in ("open", "close"):
                    body: dict[str, object] = {"symbol": "EURUSD"}
                    if action == "open":
                        body.update(order_type="buy", volume="0.01")
                    else:
                        body["action"] = "close"
                    signal_id = f"bc{processes}-{round_}-{action}"
                    row = await one_broadcast(
                        stack, results, client, signal_id, body, args.broadcast_timeout
                    )
                    row.update(processes=processes, round=round_, action=action, note=stack.note)
                    rows.append(row)
                    print(f"  broadcast {action} ({round_}): {_broadcast_line(row)}", flush=True)
            failed = False
        finally:
            await client.aclose()
            await running.stop(keep_logs=failed)
    return rows


async def one_broadcast(
    stack: Stack,
    results: Results,
    client: aioredis.Redis,
    signal_id: str,
    body: dict[str, object],
    within: float,
) -> dict[str, Any]:
    expected = len(stack.instances)
    results.watch.add(signal_id)
    start = time.perf_counter()
    await client.xadd(RTSS, {"d": orjson.dumps({**body, "signal_id": signal_id,
                                                "order_id": signal_id})})  # fmt: skip
    while len(results.by_signal.get(signal_id, ())) < expected:
        if time.perf_counter() - start > within:
            break
        stack.check_alive()
        await asyncio.sleep(0.01)
    arrivals = results.by_signal.get(signal_id, [])
    times = sorted(t - start for t, _, _ in arrivals)
    return {
        "instances": expected,
        "results": len(arrivals),
        "distinct_instances": len({i for _, _, i in arrivals}),
        "statuses": dict(Counter(s for _, s, _ in arrivals)),
        "first_ms": 1e3 * times[0] if times else None,
        "middle_ms": 1e3 * times[len(times) // 2] if times else None,
        "last_ms": 1e3 * times[-1] if times else None,
        "all_arrived": len(arrivals) >= expected,
        "gave_up_after_s": None if len(arrivals) >= expected else within,
    }


async def eaflow_run(args: argparse.Namespace, url: str) -> list[dict[str, Any]]:
    """Step c, second part: `eaflow run` (everything in one process) at `--run-rate`, each
    signal to one instance (round robin), then each to every instance (`eaflow send`'s
    default: one result per instance)."""
    admin = aioredis.Redis.from_url(url)
    await admin.flushall()
    workdir = Path(tempfile.mkdtemp(prefix="bench-orders-run-"))
    names = [f"demo-{n}" for n in range(1, args.run_instances + 1)]
    stack = Stack(url, free_port(), "", names, logs=workdir)
    env = {
        **os.environ,
        "EAFLOW_HTTP_PORT": str(stack.port),
        "EAFLOW_GATEWAY_ALLOW": "loopback",
    }
    command = ["run", "--redis", url, "--prefix", PREFIX, "--instances",
               str(args.run_instances), "--data-dir", str(workdir / "data"),
               "--log-format", "json"]  # fmt: skip
    eaflow(stack, "run", command, env)
    results = Results(aioredis.Redis.from_url(url))
    collector = asyncio.create_task(results.run())
    failed = True
    try:
        await ready(admin, stack, within=180, http=True)
        await open_loop(stack, results, 20, 1.0, "runwarm")
        rows = []
        for every in (False, True):
            tag = "runall" if every else "runone"
            row = await open_loop(stack, results, args.run_rate, args.run_seconds, tag, every)
            row["instances"] = args.run_instances
            rows.append(row)
            target = "every instance" if every else "one instance each"
            print(f"  eaflow run at {args.run_rate:g}/s to {target}: {_brief(row)}", flush=True)
        failed = False
        return rows
    finally:
        await stop_tasks([collector])
        await results.client.aclose()
        await admin.aclose()
        finish(stack, keep_logs=failed)


ORDER_TYPES: list[tuple[str, dict[str, object]]] = [
    ("open market (buy 0.01)", {"order_type": "buy", "volume": "0.01"}),
    ("modify SL/TP", {"action": "sltp", "stop_loss": "1.30000", "take_profit": "1.45000"}),
    ("close", {"action": "close"}),
    ("pending limit (buy_limit)", {"order_type": "buy_limit", "volume": "0.01",
                                   "price": "1.30000"}),
    ("cancel pending", {"action": "cancel"}),
]  # fmt: skip


@dataclass
class Counted:
    """One order's round trips, by side."""

    kind: str
    status: str
    router: list[Send] = field(default_factory=list)
    executor: list[Send] = field(default_factory=list)
    unattributed: int = 0
    redis_commands: int = 0


async def round_trips(args: argparse.Namespace, url: str) -> dict[str, Any]:
    """Step d: router and executor in this process, one instance, one order at a time."""
    configure_logging("console", "warning")  # the in-process agents' info lines: not here
    admin = aioredis.Redis.from_url(f"{url}?client_name=bench")
    await admin.flushall()
    data = Path(tempfile.mkdtemp(prefix="bench-orders-rt-"))
    pipelines = []
    for side in ("router", "executor"):
        side_url = f"{url}?client_name={side}"
        settings = Settings(redis_url=side_url, prefix=PREFIX, data_dir=data, spawn="")
        pipelines.append(build_pipeline(settings, side_url))
    router, executor = pipelines
    names = await seed_demo(router.registry, url, PREFIX, 1)
    now_ms = int(time.time() * 1000)
    tick = Tick(now_ms // 1000, 1.38742, 1.38755, 0.0, 0, now_ms, 6, 0.0)
    await admin.xadd(f"{PREFIX}ticks:EURUSD", {"d": encode_tick(tick)})
    await install(router, ["rtss"])
    await install(executor, ["orders"])
    await router.app.start()
    await executor.app.start()
    counted: list[Counted] = []
    try:
        await asyncio.sleep(1.5)  # first refresh of instances and symbols
        last: Any = await admin.xadd(f"{PREFIX}rtrs", {"warm": b"1"})
        with recording() as recorder:
            for round_ in range(args.repeats + 1):  # round 0 warms every path up
                for number, (kind, fields) in enumerate(ORDER_TYPES):
                    body = {"symbol": "EURUSD", "instances": names, **fields}
                    order_id = f"rt{round_}-{number}"
                    one, last = await count_one(admin, recorder, kind, body, order_id, last)
                    if round_:
                        counted.append(one)
    finally:
        await router.app.stop()
        await executor.app.stop()
        await router.close()
        await executor.close()
        await admin.aclose()
        shutil.rmtree(data, ignore_errors=True)
    return summarize_round_trips(counted)


async def count_one(
    admin: aioredis.Redis,
    recorder: Recorder,
    kind: str,
    body: dict[str, object],
    order_id: str,
    last: Any,
) -> tuple[Counted, Any]:
    info_at = time.perf_counter()
    before = int((await admin.info("stats"))["total_commands_processed"])
    start = time.perf_counter()
    await admin.xadd(RTSS, {"d": orjson.dumps({**body, "order_id": order_id})})
    status = "none"
    while status == "none":
        reply: Any = await admin.xread({f"{PREFIX}rtrs": last}, block=5000, count=10)
        if not reply:
            raise RuntimeError(f"round trips: no result for {kind} within 5 s")
        for entry_id, fields in reply[0][1]:
            last = entry_id
            result = orjson.loads(fields[b"d"])
            if result["order_id"] == order_id:
                status = result["status"]
    await asyncio.sleep(0.05)  # the executor's commit may return after the client saw it
    end = time.perf_counter()
    after = int((await admin.info("stats"))["total_commands_processed"])
    mine = [s for s in recorder.sends if s.client == "bench" and info_at <= s.start < end]
    one = Counted(kind, status)
    one.router = recorder.between(start, end, "router")
    one.executor = recorder.between(start, end, "executor")
    one.unattributed = len(recorder.between(start, end, ""))
    # total_commands_processed counts the commands Lua runs, and the first INFO, not the second
    one.redis_commands = after - before - sum(len(s.commands) for s in mine)
    return one, last


def _sequence(sends: list[Send]) -> str:
    """`XREADGROUP → [MULTI+HGETALL×2+EXEC] → EVALSHA`: each send, a pipeline in brackets."""
    parts = []
    for item in sorted(sends, key=lambda s: s.start):
        runs: list[list[Any]] = []
        for name in item.commands:
            if runs and runs[-1][0] == name:
                runs[-1][1] += 1
            else:
                runs.append([name, 1])
        text = "+".join(f"{name}×{n}" if n > 1 else name for name, n in runs)
        parts.append(f"[{text}]" if len(item.commands) > 1 else text)
    return " → ".join(parts)


def summarize_round_trips(counted: list[Counted]) -> dict[str, Any]:
    rows, sequences = [], {}
    for kind, _ in ORDER_TYPES:
        mine = [c for c in counted if c.kind == kind]
        if not mine:
            continue

        def median(values: list[int]) -> float:
            return float(statistics.median(values))

        router_rt = median([sequential(c.router) for c in mine])
        executor_rt = median([sequential(c.executor) for c in mine])
        commands = [sum(len(s.commands) for s in c.router + c.executor) for c in mine]
        scripts = [
            sum(n.startswith("EVAL") for s in c.router + c.executor for n in s.commands)
            for c in mine
        ]
        rows.append(
            {
                "order": kind,
                "RT total": 2 + router_rt + executor_rt,
                "router RT": router_rt,
                "executor RT": executor_rt,
                "router sends": median([len(c.router) for c in mine]),
                "executor sends": median([len(c.executor) for c in mine]),
                "client commands": median(commands),
                "EVALSHA/EVAL": median(scripts),
                "Redis commands (+Lua)": median([c.redis_commands for c in mine]),
                "unattributed sends": max(c.unattributed for c in mine),
                "statuses": dict(Counter(c.status for c in mine)),
            }
        )
        typical = min(
            mine,
            key=lambda c: (
                abs(sequential(c.router) - router_rt) + abs(sequential(c.executor) - executor_rt)
            ),
        )
        sequences[kind] = {
            "router": _sequence(typical.router),
            "executor": _sequence(typical.executor),
        }
    return {"rows": rows, "sequences": sequences, "repeats": len(counted) // len(ORDER_TYPES)}


def _brief(row: dict[str, Any]) -> str:
    lat = row.get("latency") or {}
    return (
        f"p50 {lat.get('p50_ms', 0):.2f} ms, p99 {lat.get('p99_ms', 0):.2f} ms, "
        f"{row['achieved_per_s']:.1f}/s, backlog max {row['backlog_max']}, "
        f"growth {row['backlog_growth_per_s']:.1f}/s"
        f"{'' if row['sustained'] else ' NOT SUSTAINED'}"
        f"{' (stopped early)' if row['stopped_early'] else ''}, {row['statuses']}"
    )


def _broadcast_line(row: dict[str, Any]) -> str:
    last = f"{row['last_ms']:.0f} ms" if row["last_ms"] is not None else "-"
    return (
        f"{row['results']}/{row['instances']} results, last after {last}"
        f"{'' if row['all_arrived'] else ' (NOT ALL)'}, {row['statuses']}"
    )


def _statuses(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items(), key=lambda e: -e[1]))


def _ms(value: float | None) -> float | str:
    return value if value is not None else "-"


def tables(args: argparse.Namespace, found: dict[str, Any]) -> None:
    bare = found.get("bare")
    load: dict[str, Any] = found.get("load") or {"runs": [], "latency": None, "floor": None}
    if bare or load["runs"]:
        rows: list[dict[str, Any]] = []
        if bare:
            rows.append(
                {
                    "what": "bare loop (XREADGROUP 100 → orjson → XADD + XACK), per msg",
                    "per s": bare["msg_per_s"],
                    "client CPU µs": bare["client_cpu_us_per_msg"],
                    "Redis µs": bare["redis_cpu_us_per_msg"],
                }
            )
        for run in load["runs"]:
            cpu = run["cpu_us_per_order"]
            row: dict[str, Any] = {
                "what": f"eaflow, {run['instances']} instances, "
                f"{run['processes']} orders process(es)"
                + (" [by --instance]" if run["note"] else "")
                + ", per order",
                "per s": run["orders_per_s"],
                "orders worker µs": cpu["orders_worker"],
                "router µs": cpu["router"],
                "Redis µs": cpu["redis"],
                "bench µs": cpu["bench"],
            }
            if bare:
                row["× bare per s"] = run["orders_per_s"] / bare["msg_per_s"]
                row["CPU × 2 bare hops"] = (cpu["orders_worker"] + cpu["router"]) / (
                    2 * bare["client_cpu_us_per_msg"]
                )
            row["statuses"] = _statuses(run["statuses"])
            row["done"] = "STALLED" if run["stalled"] else "ok"
            rows.append(row)
        print_table(
            f"a. sustained orders/s at max load ({args.window} signals per instance in flight, "
            f"{args.seconds:g} s after {args.warmup:g} s warm-up; CPU from /proc and INFO cpu)",
            rows,
            width=220,
        )
        for run in load["runs"]:
            if run["note"]:
                print(f"note: {run['note']}")
            if run["errors"]:
                print(f"errors ({run['processes']} process(es)): {run['errors']}")
    if found.get("broadcast"):
        print_table(
            f"b. one broadcast signal to every active instance (ms from its XADD; "
            f"gives up after {args.broadcast_timeout:g} s)",
            [
                {
                    "what": f"{r['action']} ({r['round']}), {r['processes']} process(es)",
                    "instances": r["instances"],
                    "results": r["results"],
                    "first": _ms(r["first_ms"]),
                    "middle": _ms(r["middle_ms"]),
                    "last": _ms(r["last_ms"]),
                    "all": "yes" if r["all_arrived"] else "NO",
                    "statuses": _statuses(r["statuses"]),
                }
                for r in found["broadcast"]
            ],
        )
    latency_rows: list[dict[str, Any]] = []
    chain = load.get("chain")
    if chain:
        latency_rows.append(
            {"what": f"raw chain ({ROUND_TRIPS} sequential round trips, 3 hops), closed loop",
             "p50": chain["p50_ms"], "p95": chain["p95_ms"], "p99": chain["p99_ms"],
             "n": int(chain["n"])}
        )  # fmt: skip
    floor = load.get("floor")
    if floor:
        latency_rows.append(
            {"what": f"3-hop floor (bare redis-py) at {args.rate:g}/s", "p50": floor["p50_ms"],
             "p95": floor["p95_ms"], "p99": floor["p99_ms"], "n": int(floor["n"])}
        )  # fmt: skip
    steps = [(f"eaflow, {args.instances} instances, separate processes", load.get("latency"))]
    for run in found.get("run") or ():
        target = "every instance" if run["to_every_instance"] else "one instance each"
        steps.append((f"eaflow run (one process), {run['instances']} instances, to {target}", run))
    for label, step in steps:
        if not step:
            continue
        lat = step["latency"] or {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0, "n": 0}
        entry: dict[str, Any] = {
            "what": f"{label} at {step['rate']:g}/s",
            "p50": lat["p50_ms"],
            "p95": lat["p95_ms"],
            "p99": lat["p99_ms"],
            "n": int(lat["n"]),
            "achieved/s": step["achieved_per_s"],
            "backlog max": step["backlog_max"],
            "growth/s": step["backlog_growth_per_s"],
            "sustained": "yes" if step["sustained"] else "NO",
            "statuses": _statuses(step["statuses"]),
        }
        if step["stopped_early"]:
            entry["sustained"] += " (stopped early)"
        if floor and floor["p50_ms"]:
            entry["× floor p50"] = lat["p50_ms"] / floor["p50_ms"]
            entry["× floor p99"] = lat["p99_ms"] / floor["p99_ms"]
        latency_rows.append(entry)
    if latency_rows:
        title = "c. signal → result latency, open loop (ms from when each was due)"
        print_table(title, latency_rows, width=220)
    trips = found.get("roundtrips")
    if trips:
        print_table(
            f"d. Redis round trips per order, in-process, one instance, median of "
            f"{trips['repeats']} (RT: sequential round trips; total = the client's XADD and "
            "XREAD + router + executor, whose floor is 6; commands: sent by router and "
            "executor; Redis commands: INFO, including those Lua runs)",
            [{**row, "statuses": _statuses(row["statuses"])} for row in trips["rows"]],
            width=220,
        )
        for kind, sides in trips["sequences"].items():
            print(f"{kind}:\n  router:   {sides['router']}\n  executor: {sides['executor']}")


async def main(args: argparse.Namespace) -> None:
    found: dict[str, Any] = {"args": vars(args), "supports_processes": supports_processes()}
    if any(p > 1 for p in args.processes + args.broadcast_processes) and not supports_processes():
        print(
            "note: the installed eaflow has no `eaflow worker orders --processes`; N > 1 runs "
            "N `eaflow worker orders --instance ...` processes instead",
            flush=True,
        )
    started = time.perf_counter()
    with redis_server(args.port or free_port()) as url:
        if "throughput" in args.steps:
            print("bare loop", flush=True)
            found["bare"] = await bare_loop(url, args.bare)
        if {"throughput", "latency"} & set(args.steps):
            found["load"] = await throughput_and_latency(args, url)
        if "broadcast" in args.steps and args.broadcast:
            found["broadcast"] = await broadcast(args, url)
        if "run" in args.steps:
            print("eaflow run", flush=True)
            found["run"] = await eaflow_run(args, url)
        if "roundtrips" in args.steps:
            print("round trips", flush=True)
            found["roundtrips"] = await round_trips(args, url)
    found["wall_seconds"] = time.perf_counter() - started
    tables(args, found)
    write_json("orders", found)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=100, help="instances for a and c")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time at max load")
    parser.add_argument("--warmup", type=float, default=3.0, help="max load before measuring")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2],
                        help="orders worker processes, one run each")  # fmt: skip
    parser.add_argument("--window", type=int, default=8, help="signals in flight per instance")
    parser.add_argument("--broadcast", type=int, default=1000, help="instances (0: skip)")
    parser.add_argument("--broadcast-processes", type=int, nargs="+", default=[1])
    parser.add_argument("--broadcast-timeout", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=50.0, help="open-loop signals/s (c)")
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    parser.add_argument("--run-instances", type=int, default=3)
    parser.add_argument("--run-rate", type=float, default=100.0)
    parser.add_argument("--run-seconds", type=float, default=6.0)
    parser.add_argument("--repeats", type=int, default=20, help="orders per type (d)")
    parser.add_argument("--bare", type=int, default=50_000, help="messages of the bare loop")
    parser.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS))
    parser.add_argument("--port", type=int, default=0, help="redis-server port (0: free)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args(argv)
    if smoke_mode(args.smoke):
        args.instances, args.seconds, args.warmup, args.window = 4, 1.0, 0.5, 4
        args.broadcast, args.broadcast_timeout = 10, 30.0
        args.latency_seconds, args.run_seconds, args.repeats, args.bare = 1.0, 1.0, 1, 2000
    return args


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the worker processes and Redis like Ctrl-C


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupted)
    asyncio.run(main(parse()))
