"""Webhook latency while the gateway is under attack: 500 live-stream clients and a flood of
unauthenticated requests (issue 18), beside a raw baseline measured in the same run.

The gateway runs as `eaflow run` has it: one process (`eaflow worker gateway rtss orders`)
with the router and the executor of one simulated instance, on a local redis-server; a
feed writes a EURUSD tick every 50 ms. Phases, each with the same closed-loop series of
valid alerts (alternately a 0.01-lot buy and its close on demo-1, so every one trades):

- alone;
- beside `--live` `GET /api/live?symbol=EURUSD&instance=demo-1` streams, `--per-address`
  from each loopback address (127.0.x.y: distinct client addresses), kept open and read;
- beside a flood of unauthenticated alerts (a wrong secret) at `--flood-rate` per second
  (0: as fast as `--flood-connections` connections go), each connection from its own
  loopback address;
- beside both.

The streams and the flood come from processes of their own (this one only measures).
Every alert is followed by a POST of the same body to a raw server: a bare ASGI app on the
same uvicorn that does one XADD per request, the least a webhook must do; so each phase
has its raw baseline under the same load. For each phase: the webhook's answer latency
(p50/p95/p99/max, and any answer but 200), the raw baseline's, the alerts' results
(filled or closed: the pipeline kept trading), the streams opened (200 or refused), the
events they got, the flood's achieved rate and answers, and the worker's CPU.

    python -m bench.bench_gateway_load [-n 500] [--live 500] [--flood-rate 700]
        [--flood-connections 16] [--phases alone live flood both] [--smoke]

Before/after figures: run this file from a checkout of the older commit (a `git worktree`,
with this file and tests/eaflow/gateway/live_clients.py copied in, and PYTHONPATH set to
it), since the bench seeds the instances with the code it imports.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis

from bench.common import is_smoke, percentiles, redis_server, report, smoke_mode, stop_tasks
from bench.loadgen import Connection
from bench.stack import PREFIX, Results, Stack, feed, start_stack
from tests.eaflow.gateway.live_clients import close_all, loopback, open_many
from tests.redis_server import free_port

ROOT = Path(__file__).resolve().parent.parent
VIEWER = "bench-viewer-token-0123456789"  # the read endpoints' token, where one is asked
AUTH = (("Authorization", f"Bearer {VIEWER}"),)
LIVE_QUERY = "symbol=EURUSD&instance=demo-1"
FLOOD_BODY = orjson.dumps(
    {"secret": "not-the-secret-0123456789", "action": "buy", "symbol": "EURUSD", "volume": 0.01}
)
FLOOD_FIRST = 200  # loopback(n) index of the first flood address: apart from the streams'


# -- roles: processes of their own ------------------------------------------------------------


def emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(payload).decode() + "\n")
    sys.stdout.flush()


async def until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


async def live_role(port: int, count: int, per_address: int) -> None:
    """Open `count` streams, say how they were answered, read them until stopped, then say
    what they got."""
    clients = await open_many(
        "127.0.0.1", port, LIVE_QUERY, count, per_address, AUTH, counting=True
    )
    emit({"opened": Counter(str(c.status) for c in clients)})
    await until_stopped()
    events: Counter[str] = Counter()
    for client in clients:
        events.update(client.events)
    ended = sum(1 for c in clients if c.status == 200 and c.ended)
    await close_all(clients)
    emit({"events": events, "ended": ended})


async def flood_role(port: int, rate: float, connections: int) -> None:
    """Unauthenticated alerts at `rate`/s (0: as fast as they are answered) over
    `connections` keep-alive connections, one loopback address each, until stopped."""
    statuses: Counter[str] = Counter()
    errors = 0
    stop = asyncio.Event()
    started = time.perf_counter()
    per_connection = rate / connections if rate else 0.0

    async def sender(n: int) -> None:
        nonlocal errors
        conn = LocalConnection(port, loopback(FLOOD_FIRST + n))
        due = time.perf_counter() + (n / rate if rate else 0.0)
        while not stop.is_set():
            if per_connection:
                due += 1 / per_connection
                pause = due - time.perf_counter()
                if pause > 0:
                    await asyncio.sleep(pause)
            try:
                statuses[str(await conn.post(FLOOD_BODY))] += 1
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                errors += 1
                await conn.close()
                conn = LocalConnection(port, loopback(FLOOD_FIRST + n))
                await asyncio.sleep(0.01)
        await conn.close()

    senders = [asyncio.create_task(sender(n)) for n in range(connections)]
    emit({"flooding": connections})
    await until_stopped()
    stop.set()
    await stop_tasks(senders)
    seconds = time.perf_counter() - started
    emit({"sent": sum(statuses.values()), "statuses": statuses, "errors": errors, "s": seconds})


class LocalConnection(Connection):
    """`bench.loadgen.Connection` from a chosen local address."""

    def __init__(self, port: int, local: str) -> None:
        super().__init__("127.0.0.1", port, "/webhook/tradingview")
        self.local = local

    async def post(self, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port, local_addr=(self.local, 0)
            )
        return await super().post(body)


def raw_role(url: str, port: int) -> None:
    """The raw baseline: POST → one XADD → 200, on uvicorn as the gateway is served."""
    import uvicorn

    client = aioredis.Redis.from_url(url)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        entry = await client.xadd(f"{PREFIX}raw", {"d": body}, maxlen=10_000, approximate=True)
        answer = orjson.dumps({"id": entry.decode() if isinstance(entry, bytes) else str(entry)})
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")


# -- the measuring process --------------------------------------------------------------------


class Role:
    """One load process: `python -m bench.bench_gateway_load --role ...`, JSON lines out."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the bench's own checkout
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.bench_gateway_load", "--role", *args],
            stdout=subprocess.PIPE,
            env=env,
            cwd=ROOT,
        )

    async def line(self, within: float = 120.0) -> dict[str, Any]:
        assert self.process.stdout is not None
        out = self.process.stdout
        raw = await asyncio.wait_for(asyncio.to_thread(out.readline), within)
        if not raw:
            raise RuntimeError(f"load process ended early (exit {self.process.poll()})")
        found: dict[str, Any] = orjson.loads(raw)
        return found

    async def stop(self) -> dict[str, Any]:
        self.process.send_signal(signal.SIGTERM)
        try:
            return await self.line(30.0)
        finally:
            await asyncio.to_thread(self.process.wait, 30)


async def wait_http(port: int, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return


def alert(stack: Stack, tag: str, n: int) -> tuple[str, bytes]:
    order_id = f"{tag}-{n}"
    body: dict[str, Any] = {
        "secret": stack.secret,
        "symbol": "EURUSD",
        "instances": [stack.instances[0]],
        "order_id": order_id,
    }
    if n % 2:
        body["action"] = "closelong"
    else:
        body.update(action="buy", volume="0.01")
    return order_id, orjson.dumps(body)


async def series(stack: Stack, raw_port: int, tag: str, n: int) -> dict[str, Any]:
    """`n` alerts one at a time, each followed by the same body to the raw server."""
    gateway = Connection("127.0.0.1", stack.port, "/webhook/tradingview")
    raw = Connection("127.0.0.1", raw_port, "/")
    times: dict[str, list[float]] = {"eaflow": [], "raw": []}
    answers: dict[str, Counter[str]] = {"eaflow": Counter(), "raw": Counter()}
    sent = []
    try:
        for k in range(n):
            order_id, body = alert(stack, tag, k)
            for name, conn in (("eaflow", gateway), ("raw", raw)):
                start = time.perf_counter()
                try:
                    status = await conn.post(body)
                except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                    status = 0
                    await conn.close()
                    conn.writer = conn.reader = None
                times[name].append(time.perf_counter() - start)
                answers[name][str(status)] += 1
                if name == "eaflow" and status == 200:
                    sent.append(order_id)
    finally:
        await gateway.close()
        await raw.close()
    return {"times": times, "answers": answers, "accepted": sent}


async def drained(results: Results, order_ids: list[str], within: float = 30.0) -> Counter[str]:
    """The statuses of the alerts' results, once all are in (or `within` s passed)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within):
            while any(o not in results.arrived for o in order_ids):
                results.freed.clear()
                await results.freed.wait()
    return Counter(results.arrived[o][1] if o in results.arrived else "missing" for o in order_ids)


async def phase(
    stack: Stack, results: Results, raw_port: int, name: str, live: int, flood: bool,
    args: argparse.Namespace,
) -> dict[str, Any]:  # fmt: skip
    loads: dict[str, Role] = {}
    info: dict[str, Any] = {"phase": name}
    if live:
        loads["live"] = Role("live", str(stack.port), str(live), str(args.per_address))
    if flood:
        loads["flood"] = Role(
            "flood", str(stack.port), str(args.flood_rate), str(args.flood_connections)
        )
    try:
        if "live" in loads:
            info["streams_opened"] = (await loads["live"].line())["opened"]
        if "flood" in loads:
            await loads["flood"].line()
        await asyncio.sleep(args.warmup)
        cpu = stack.cpu_seconds()
        started = time.perf_counter()
        measured = await series(stack, raw_port, f"{name.split()[0]}{time.time_ns()}", args.n)
        seconds = time.perf_counter() - started
        used = {k: v - cpu[k] for k, v in stack.cpu_seconds().items()}
        info["worker_cpu_pct"] = 100 * sum(used.values()) / seconds
        info["seconds"] = seconds
    finally:
        for role, load in loads.items():
            info[role] = await load.stop()
    stack.check_alive()
    info["results"] = await drained(results, measured["accepted"])
    return {**info, **measured}


async def run(url: str, args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    os.environ["EAFLOW_GATEWAY_VIEWER_TOKEN"] = VIEWER  # inherited by the worker
    stack = await start_stack(url, 1, workdir, layout="single")
    stop_feed = asyncio.Event()
    ticking = asyncio.create_task(feed(url, stop_feed))
    client = aioredis.Redis.from_url(url)
    results = Results(client)
    following = asyncio.create_task(results.run())
    raw_port = free_port()
    raw = Role("raw", url, str(raw_port)).process
    every = {
        "alone": ("alone", 0, False),
        "live": (f"{args.live} live", args.live, False),
        "flood": ("flood", 0, True),
        "both": (f"{args.live} live + flood", args.live, True),
    }
    phases = [every[name] for name in args.phases]
    found = []
    try:
        await wait_http(raw_port)
        await series(stack, raw_port, "warm", 20)  # connections and code paths warm
        for name, live, flood in phases:
            found.append(await phase(stack, results, raw_port, name, live, flood, args))
    finally:
        raw.terminate()
        raw.wait(10)
        stop_feed.set()
        await ticking
        await stop_tasks([following])
        await client.aclose()
        stack.stop()
    return found


def rows_of(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per phase: the raw server's row, then eaflow's with the load's figures."""
    rows = []
    for info in found:
        raw = percentiles(info["times"]["raw"])
        for name in ("raw", "eaflow"):
            lat = percentiles(info["times"][name])
            row: dict[str, Any] = {
                "phase": info["phase"],
                "server": name,
                "p50": lat["p50_ms"],
                "p95": lat["p95_ms"],
                "p99": lat["p99_ms"],
                "max": lat["max_ms"],
                "not 200": sum(v for k, v in info["answers"][name].items() if k != "200"),
            }
            if name == "eaflow":
                row["×raw p50"] = lat["p50_ms"] / raw["p50_ms"] if raw["p50_ms"] else 0.0
                row["×raw p99"] = lat["p99_ms"] / raw["p99_ms"] if raw["p99_ms"] else 0.0
                row["traded"] = sum(
                    v for k, v in info["results"].items() if k in ("filled", "closed")
                )
                opened = info.get("streams_opened") or {}
                refused = sum(v for k, v in opened.items() if k != "200")
                row["streams ok/refused"] = f"{opened.get('200', 0)}/{refused}"
                events = (info.get("live") or {}).get("events") or {}
                row["stream events"] = sum(events.values())
                flood = info.get("flood") or {}
                row["flood/s"] = flood.get("sent", 0) / flood["s"] if flood.get("s") else 0.0
                row["worker CPU %"] = info["worker_cpu_pct"]
            rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=500, help="alerts per phase")
    parser.add_argument("--live", type=int, default=500, help="live-stream clients")
    parser.add_argument("--per-address", type=int, default=8, help="streams per address")
    parser.add_argument("--flood-rate", type=float, default=700.0, help="0: as fast as it goes")
    parser.add_argument("--flood-connections", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument(
        "--phases",
        nargs="+",
        choices=("alone", "live", "flood", "both"),
        default=["alone", "live", "flood", "both"],
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    parser.add_argument("--role", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        role, *rest = args.role
        if role == "raw":
            raw_role(rest[0], int(rest[1]))
        elif role == "live":
            asyncio.run(live_role(int(rest[0]), int(rest[1]), int(rest[2])))
        else:
            asyncio.run(flood_role(int(rest[0]), float(rest[1]), int(rest[2])))
        return
    if smoke_mode(args.smoke):
        args.n, args.live, args.flood_rate, args.flood_connections, args.warmup = 20, 16, 50, 2, 0.5
    with redis_server(free_port()) as url, tempfile.TemporaryDirectory() as workdir:
        found = asyncio.run(run(url, args, Path(workdir)))
    rows = rows_of(found)
    report(
        "gateway_load",
        f"webhook answer latency (ms) of {args.n} valid alerts a phase (closed loop), each "
        f"beside the raw XADD server's under the same load; {args.live} live streams, "
        f"flood of unauthenticated alerts at {args.flood_rate:g}/s",
        rows,
        {
            "phases": [
                {k: v for k, v in info.items() if k not in ("times", "accepted")} for info in found
            ],
            "live": args.live,
            "per_address": args.per_address,
            "flood_rate": args.flood_rate,
            "flood_connections": args.flood_connections,
            "smoke": is_smoke(),
        },
    )


if __name__ == "__main__":
    main()
