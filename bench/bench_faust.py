"""The Faust transport on Redis: messages/s through a Faust agent that keeps a table, beside
raw XADD/XREAD on the same server.

In one run on a local redis-server (≥ 7.0):
- raw XADD: pipelined `XADD key 0-*` in batches of 500 into 4 streams (redis-py asyncio);
- raw XREAD: the same entries read back with `XREAD COUNT 1000`;
- raw agent + table: what an agent with a table does, by hand: XREAD a batch, write one
  changelog entry per message (`XADD 0-*`) and the batch's offsets (HSET), pipelined;
- Faust producer: `topic.send` of every message, then `flush` (the transport's PRODUCE
  scripts);
- Faust agent + table: a worker (`python -m faust -A bench.bench_faust worker`) counting
  every message into a table (changelog, commits), timed by the agent from its first
  message to its last, on messages sent before it started.

`python -m bench faust [--messages N]`; `--smoke` for a few thousand (figures not judged).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import faust
import redis
import redis.asyncio as aioredis

from bench.common import redis_server, report, smoke_mode
from tests.redis_server import free_port

PARTITIONS = 4
TOPIC = "bench-in"
DONE_KEY = "bench:faust:done"

# -- the worker's app (imported by `python -m faust -A bench.bench_faust worker`) ---------

app = faust.App(
    "bench-faust",
    broker=os.environ.get("BENCH_FAUST_REDIS", "redis://127.0.0.1:6379/0"),
    store="memory://",
    topic_partitions=PARTITIONS,
    broker_commit_interval=1.0,
)
source = app.topic(TOPIC, key_type=str, value_serializer="raw")
counts = app.Table("counts", default=int)
EXPECTED = int(os.environ.get("BENCH_FAUST_MESSAGES", "0"))


@app.agent(source)
async def count(stream: Any) -> None:
    seen, first = 0, 0.0
    async for key, _ in stream.items():
        if not seen:
            first = time.perf_counter()
        counts[key] += 1
        seen += 1
        if seen == EXPECTED:
            client = aioredis.Redis.from_url(os.environ["BENCH_FAUST_REDIS"])
            await client.set(DONE_KEY, f"{time.perf_counter() - first:.6f}")
            await client.aclose()


# -- the benchmark ------------------------------------------------------------------------


def row(what: str, messages: int, seconds: float) -> dict[str, Any]:
    return {"what": what, "messages": messages, "seconds": seconds, "msg_per_s": messages / seconds}


async def raw_rates(url: str, messages: int) -> list[dict[str, Any]]:
    client = aioredis.Redis.from_url(url)
    keys = [f"raw:in:{p}" for p in range(PARTITIONS)]
    payload = b"x" * 64
    start = time.perf_counter()
    for first in range(0, messages, 500):
        pipe = client.pipeline(transaction=False)
        for n in range(first, min(first + 500, messages)):
            pipe.xadd(
                keys[n % PARTITIONS], {"t": 0, "k": b"k%d" % (n % 64), "v": payload}, id="0-*"
            )
        await pipe.execute()
    rows = [row("raw XADD 0-* (pipelined by 500)", messages, time.perf_counter() - start)]

    start = time.perf_counter()
    positions: dict[Any, Any] = dict.fromkeys(keys, "0-0")
    read = 0
    while read < messages:
        reply: Any = await client.xread(positions, count=1000)
        for key, entries in reply:
            positions[key.decode()] = entries[-1][0].decode()
            read += len(entries)
    rows.append(row("raw XREAD COUNT 1000", messages, time.perf_counter() - start))

    start = time.perf_counter()
    positions = dict.fromkeys(keys, "0-0")
    table: dict[bytes, int] = {}
    read = 0
    while read < messages:
        reply = await client.xread(positions, count=1000)
        pipe = client.pipeline(transaction=False)
        for key, entries in reply:
            name = key.decode()
            partition = name.rsplit(":", 1)[1]
            for _, fields in entries:
                k = fields[b"k"]
                table[k] = table.get(k, 0) + 1
                pipe.xadd(f"raw:changelog:{partition}", {"k": k, "v": table[k]}, id="0-*")
            positions[name] = entries[-1][0].decode()
            pipe.hset("raw:offsets", name, positions[name])
            read += len(entries)
        await pipe.execute()
    rows.append(row("raw agent + table (XREAD, XADD per message, HSET offsets)", messages,
                    time.perf_counter() - start))  # fmt: skip
    await client.aclose()
    return rows


async def faust_producer_rate(url: str, messages: int) -> dict[str, Any]:
    client_app = faust.App("bench-faust-producer", broker=url, topic_partitions=PARTITIONS)
    topic = client_app.topic(TOPIC, key_type=str, value_serializer="raw")
    await client_app.producer.start()
    payload = b"x" * 64
    start = time.perf_counter()
    for n in range(messages):
        await topic.send(key=f"k{n % 64}", value=payload)
    await client_app.producer.flush()
    elapsed = time.perf_counter() - start
    await client_app.producer.stop()
    return row("Faust producer: topic.send + flush", messages, elapsed)


def faust_agent_rate(url: str, messages: int) -> dict[str, Any]:
    env = {**os.environ, "BENCH_FAUST_REDIS": url, "BENCH_FAUST_MESSAGES": str(messages)}
    log = tempfile.NamedTemporaryFile(prefix="bench-faust-", suffix=".log", delete=False)  # noqa: SIM115 - the worker's log, removed at the end
    worker = subprocess.Popen(
        [sys.executable, "-m", "faust", "-A", "bench.bench_faust", "worker", "-l", "warn",
         "--web-port", str(free_port()), "--web-host", "127.0.0.1"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    log.close()
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 600
        while (done := client.get(DONE_KEY)) is None:
            if worker.poll() is not None or time.monotonic() > deadline:
                tail = Path(log.name).read_text(errors="replace")[-3000:]
                raise SystemExit(f"the Faust worker ended or stalled:\n{tail}")
            time.sleep(0.1)
        return row("Faust agent + table (one worker)", messages, float(done))
    finally:
        client.close()
        Path(log.name).unlink(missing_ok=True)
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if smoke_mode(args.smoke):
        args.messages = 2000
    with redis_server(free_port()) as url:
        version = redis.Redis.from_url(url).info("server")["redis_version"]
        if tuple(int(p) for p in version.split(".")[:2]) < (7, 0):
            raise SystemExit(f"the Faust transport needs Redis ≥ 7.0; redis-server is {version}")
        rows = asyncio.run(raw_rates(url, args.messages))
        rows.append(asyncio.run(faust_producer_rate(url, args.messages)))
        rows.append(faust_agent_rate(url, args.messages))
    fastest_raw = max(r["msg_per_s"] for r in rows[:3])
    agent_raw = rows[2]["msg_per_s"]
    for r in rows:
        r["of_raw_agent"] = r["msg_per_s"] / agent_raw
    report(
        "faust",
        f"Faust on Redis Streams, {args.messages} messages, {PARTITIONS} partitions",
        rows,
        {"args": vars(args), "fastest_raw_msg_per_s": fastest_raw},
    )


if __name__ == "__main__":
    main()
