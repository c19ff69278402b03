"""Tick ingest beside raw redis-py XADD, and the ring buffer's cost per tick and memory.

In one run on one local redis-server:
- raw: redis-py pipelined `XADD MAXLEN ~ 1000` of already encoded ticks (asyncio, the
  client eaflow uses, and the synchronous client, which is faster per call);
- eaflow: the real recordings written by `TickWriter` (encoding included) while a `ticks`
  worker (App, TickAgent, TickTable) reads them, until the table holds the newest tick of
  every symbol: stream + table, end to end;
- the ring buffer alone: ns per tick appended one by one and in batches, bytes per slot and
  per symbol.

    python -m bench.bench_ticks [--ticks 100000] [--batch 500]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from itertools import islice
from typing import Any

import redis
import redis.asyncio as aioredis

from bench.common import redis_server, report
from model.tick import Tick, encode_tick
from model.topics import Topics
from processors.ticks.agent import TickAgent
from processors.ticks.recorded import recorded_files
from processors.ticks.replay import merged
from processors.ticks.writer import TickWriter
from streams import App, AppSettings, Event, Outbox
from streams.ring import TickRing, tick_array
from tests.redis_server import free_port

PREFIX = "bench:"
MAXLEN = 1000


def batches(ticks: list[tuple[str, Tick]], size: int) -> list[list[tuple[str, Tick]]]:
    return [ticks[i : i + size] for i in range(0, len(ticks), size)]


async def raw_async(url: str, ticks: list[tuple[str, Tick]], size: int) -> float:
    client = aioredis.Redis.from_url(url)
    await client.flushall()
    encoded = [(f"raw:{s}", encode_tick(t)) for s, t in ticks]
    start = time.perf_counter()
    for i in range(0, len(encoded), size):
        pipe = client.pipeline(transaction=False)
        for key, data in encoded[i : i + size]:
            pipe.xadd(key, {"d": data}, maxlen=MAXLEN, approximate=True)
        await pipe.execute()
    elapsed = time.perf_counter() - start
    await client.aclose()
    return len(ticks) / elapsed


def raw_sync(url: str, ticks: list[tuple[str, Tick]], size: int) -> float:
    client = redis.Redis.from_url(url)
    client.flushall()
    encoded = [(f"raw:{s}", encode_tick(t)) for s, t in ticks]
    start = time.perf_counter()
    for i in range(0, len(encoded), size):
        pipe = client.pipeline(transaction=False)
        for key, data in encoded[i : i + size]:
            pipe.xadd(key, {"d": data}, maxlen=MAXLEN, approximate=True)
        pipe.execute()
    elapsed = time.perf_counter() - start
    client.close()
    return len(ticks) / elapsed


async def writer_alone(url: str, ticks: list[tuple[str, Tick]], size: int) -> float:
    """`TickWriter` with nobody reading: the stream side of ingest, encoding included."""
    client = aioredis.Redis.from_url(url)
    await client.flushall()
    writer = TickWriter(client, PREFIX, MAXLEN)
    start = time.perf_counter()
    for batch in batches(ticks, size):
        await writer.write(batch)
    elapsed = time.perf_counter() - start
    await client.aclose()
    return len(ticks) / elapsed


async def eaflow_ingest(url: str, ticks: list[tuple[str, Tick]], size: int) -> dict[str, Any]:
    """Writer and worker in one process and one event loop, as `eaflow run` has them."""
    client = aioredis.Redis.from_url(url)
    await client.flushall()
    symbols = sorted({s for s, _ in ticks})
    app = App(AppSettings(redis_url=url, prefix=PREFIX, block_ms=50))
    topics = Topics(app, tick_maxlen=MAXLEN)
    table = app.table("ticks")
    agent = TickAgent(topics, table, always=frozenset(symbols))
    last = {s: t.time_msc for s, t in ticks}  # the newest tick of each symbol
    done = asyncio.Event()

    async def handle(events: list[Event[Any]], out: Outbox) -> None:
        await agent.handle(events, out)
        if all(table.ring(s).newest_msc() == msc for s, msc in last.items()):
            done.set()

    app.agent([topics.ticks(s) for s in symbols], group="ticks", batch=True, batch_size=1000)(
        handle
    )
    await agent.refresh()
    await app.start()
    writer = TickWriter(client, PREFIX, MAXLEN)
    start = time.perf_counter()
    for batch in batches(ticks, size):
        await writer.write(batch)
    await done.wait()
    elapsed = time.perf_counter() - start
    await app.stop()
    await client.aclose()
    return {"rate": len(ticks) / elapsed, "seen_by_agent": sum(agent.seen.values())}


def ring_costs(ticks: list[tuple[str, Tick]]) -> list[dict[str, Any]]:
    rows = tick_array([(t.time_msc, t.bid, t.ask, t.last, 0.0, t.flags) for _, t in ticks])
    costs = []
    ring = TickRing(1000)
    start = time.perf_counter_ns()
    for row in rows[:20_000].tolist():
        ring.append(*row)
    costs.append(
        {"what": "ring append, one tick", "ns_per_tick": (time.perf_counter_ns() - start) / 20_000}
    )
    for size in (1, 100, 1000):
        ring = TickRing(1000)
        chunks = [rows[i : i + size] for i in range(0, len(rows), size)]
        start = time.perf_counter_ns()
        for chunk in chunks:
            ring.extend(chunk)
        costs.append(
            {
                "what": f"ring extend, batches of {size}",
                "ns_per_tick": (time.perf_counter_ns() - start) / len(rows),
            }
        )
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="median of this many rounds")
    args = parser.parse_args()
    ticks = list(islice(merged(recorded_files()), args.ticks))

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    with redis_server(free_port()) as url:
        raw_a, raw_s, ingest, write_only, seen = [], [], [], [], []
        for _ in range(args.rounds):
            raw_a.append(asyncio.run(raw_async(url, ticks, args.batch)))
            raw_s.append(raw_sync(url, ticks, args.batch))
            write_only.append(asyncio.run(writer_alone(url, ticks, args.batch)))
            result = asyncio.run(eaflow_ingest(url, ticks, args.batch))
            ingest.append(result["rate"])
            seen.append(result["seen_by_agent"])
    raw_best = max(median(raw_a), median(raw_s))
    ring = ring_costs(ticks)
    slot = TickRing(1000)
    rows: list[dict[str, Any]] = [
        {"what": "raw redis-py asyncio pipelined XADD", "ticks_per_s": median(raw_a)},
        {"what": "raw redis-py sync pipelined XADD", "ticks_per_s": median(raw_s)},
        {"what": "eaflow TickWriter alone (stream only)", "ticks_per_s": median(write_only)},
        {"what": "eaflow ingest (stream + ticks agent + table)", "ticks_per_s": median(ingest)},
    ]
    for row in rows:
        row["vs_best_raw"] = row["ticks_per_s"] / raw_best
    report(
        "ticks",
        f"Tick ingest, {len(ticks):,} real ticks of {len({s for s, _ in ticks})} symbols, "
        f"batches of {args.batch}, median of {args.rounds}",
        rows,
        {
            "ingest_vs_best_raw": median(ingest) / raw_best,
            "ticks_seen_by_agent": seen,  # fewer than written when it fell behind MAXLEN
            "ring": ring,
            "ring_bytes_per_slot": slot.nbytes // slot.capacity,
            "ring_bytes_per_symbol": slot.nbytes,
        },
    )
    report(
        "ticks_ring",
        f"Ring buffer: {slot.nbytes // slot.capacity} bytes per slot, "
        f"{slot.nbytes:,} bytes per symbol (1,000 slots)",
        ring,
        {},
    )
    print(f"ingest / best raw = {median(ingest) / raw_best:.2f} (target ≥ 0.50)")


if __name__ == "__main__":
    main()
