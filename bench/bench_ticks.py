"""Tick ingest beside a raw Lua batch write, and the ring buffer's cost per tick and memory.

In one run on one local redis-server:
- the baseline: already encoded ticks written in batches by one EVALSHA of a script that
  XADDs each with `MAXLEN ~ 1000` (what `TickWriter` does, without its encoding or
  bookkeeping), with the asyncio client eaflow uses and the synchronous one; the better
  of the two is the baseline;
- for reference, one pipelined `XADD MAXLEN ~ 1000` per tick (asyncio and sync): what a
  writer without a script pays per tick;
- eaflow: the real recordings written by `TickWriter` (encoding included) while a `ticks`
  worker (App, TickAgent, TickTable) reads them, until the table holds the newest tick of
  every symbol: stream + table, end to end. Its rate counts only the ticks the agent saw
  (a tick trimmed by MAXLEN before the agent read it is not ingested);
- the ring buffer alone: ns per tick appended one by one and in batches, bytes per slot and
  per symbol.

    python -m bench.bench_ticks [--ticks 100000] [--batch 500] [--rounds 3] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Mapping
from itertools import islice
from typing import Any

import redis
import redis.asyncio as aioredis

from bench.common import redis_server, report, smoke_mode
from model.tick import Tick, encode_tick
from model.topics import Topics
from processors.ticks.agent import TickAgent
from processors.ticks.recorded import recorded_files
from processors.ticks.replay import merged
from processors.ticks.writer import TickWriter
from streams import App, AppSettings, Columns, Outbox
from streams.ring import TickRing, tick_array
from tests.redis_server import free_port

PREFIX = "bench:"
MAXLEN = 1000


RAW_APPEND = """
local maxlen = ARGV[1]
for i = 1, #KEYS do
  for entry in string.gmatch(ARGV[i + 1], '[^\\n]+') do
    redis.call('XADD', KEYS[i], 'MAXLEN', '~', maxlen, '*', 'd', entry)
  end
end
return #KEYS
"""
"""The raw batch write, TickWriter's technique: KEYS each symbol's stream, ARGV maxlen then
each symbol's already encoded ticks joined by newlines."""


def joined(chunk: list[tuple[str, bytes]]) -> tuple[list[str], list[bytes]]:
    """A batch of (key, entry) as the script's keys and one newline-joined arg per key."""
    by_key: dict[str, list[bytes]] = {}
    for key, data in chunk:
        by_key.setdefault(key, []).append(data)
    return list(by_key), [b"\n".join(found) for found in by_key.values()]


def batches(ticks: list[tuple[str, Tick]], size: int) -> list[list[tuple[str, Tick]]]:
    return [ticks[i : i + size] for i in range(0, len(ticks), size)]


async def raw_lua_async(url: str, ticks: list[tuple[str, Tick]], size: int) -> float:
    """Encoded ticks, one EVALSHA per batch (the baseline), asyncio client."""
    client = aioredis.Redis.from_url(url)
    await client.flushall()
    script = client.register_script(RAW_APPEND)
    data = [(f"raw:{s}", encode_tick(t)) for s, t in ticks]
    start = time.perf_counter()
    for i in range(0, len(data), size):
        keys, args = joined(data[i : i + size])
        await script(keys=keys, args=[MAXLEN, *args])
    elapsed = time.perf_counter() - start
    await client.aclose()
    return len(ticks) / elapsed


def raw_lua_sync(url: str, ticks: list[tuple[str, Tick]], size: int) -> float:
    """The same with the synchronous client."""
    client = redis.Redis.from_url(url)
    client.flushall()
    script = client.register_script(RAW_APPEND)
    data = [(f"raw:{s}", encode_tick(t)) for s, t in ticks]
    start = time.perf_counter()
    for i in range(0, len(data), size):
        keys, args = joined(data[i : i + size])
        script(keys=keys, args=[MAXLEN, *args])
    elapsed = time.perf_counter() - start
    client.close()
    return len(ticks) / elapsed


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

    async def handle(columns: Mapping[str, Columns], out: Outbox) -> None:
        await agent.handle(columns, out)
        if all(table.ring(s).newest_msc() == msc for s, msc in last.items()):
            done.set()

    app.agent([topics.ticks(s) for s in symbols], group="ticks", batch="columns", batch_size=1000)(
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
    seen = sum(agent.seen.values())
    return {"rate": seen / elapsed, "written_rate": len(ticks) / elapsed, "seen_by_agent": seen}


def ring_costs(ticks: list[tuple[str, Tick]]) -> list[dict[str, Any]]:
    rows = tick_array([(t.time_msc, t.bid, t.ask, t.last, 0.0, t.flags) for _, t in ticks])
    costs = []
    ring = TickRing(1000)
    start = time.perf_counter_ns()
    one_by_one = rows[:20_000].tolist()
    for row in one_by_one:
        ring.append(*row)
    costs.append(
        {
            "what": "ring append, one tick",
            "ns_per_tick": (time.perf_counter_ns() - start) / len(one_by_one),
        }
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
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if smoke_mode(args.smoke):
        args.ticks, args.rounds = 3000, 1
    ticks = list(islice(merged(recorded_files()), args.ticks))

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    runs: dict[str, list[float]] = {
        k: [] for k in ("lua_a", "lua_s", "xadd_a", "xadd_s", "writer", "ingest", "written")
    }
    seen: list[int] = []
    with redis_server(free_port()) as url:
        for _ in range(args.rounds):
            runs["lua_a"].append(asyncio.run(raw_lua_async(url, ticks, args.batch)))
            runs["lua_s"].append(raw_lua_sync(url, ticks, args.batch))
            runs["xadd_a"].append(asyncio.run(raw_async(url, ticks, args.batch)))
            runs["xadd_s"].append(raw_sync(url, ticks, args.batch))
            runs["writer"].append(asyncio.run(writer_alone(url, ticks, args.batch)))
            result = asyncio.run(eaflow_ingest(url, ticks, args.batch))
            runs["ingest"].append(result["rate"])
            runs["written"].append(result["written_rate"])
            seen.append(result["seen_by_agent"])
    m = {k: median(v) for k, v in runs.items()}
    baseline = max(m["lua_a"], m["lua_s"])
    ring = ring_costs(ticks)
    slot = TickRing(1000)
    rows: list[dict[str, Any]] = [
        {"what": "raw Lua batch write, asyncio (baseline if faster)", "ticks_per_s": m["lua_a"]},
        {"what": "raw Lua batch write, sync (baseline if faster)", "ticks_per_s": m["lua_s"]},
        {"what": "reference: pipelined XADD per tick, asyncio", "ticks_per_s": m["xadd_a"]},
        {"what": "reference: pipelined XADD per tick, sync", "ticks_per_s": m["xadd_s"]},
        {"what": "eaflow TickWriter alone (stream only)", "ticks_per_s": m["writer"]},
        {
            "what": "eaflow ingest (stream + ticks agent + table), ticks the agent saw",
            "ticks_per_s": m["ingest"],
        },
    ]
    for row in rows:
        row["vs_baseline"] = row["ticks_per_s"] / baseline
    report(
        "ticks",
        f"Tick ingest, {len(ticks):,} real ticks of {len({s for s, _ in ticks})} symbols, "
        f"batches of {args.batch}, median of {args.rounds}",
        rows,
        {
            "baseline": "raw Lua batch write (the better of asyncio and sync)",
            "baseline_ticks_per_s": baseline,
            "ingest_vs_baseline": m["ingest"] / baseline,
            "ingest_written_per_s": m["written"],  # ticks written per second meanwhile
            "ticks_written": len(ticks),
            "ticks_seen_by_agent": seen,  # fewer than written when it fell behind MAXLEN
            "rounds": runs,
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
    print(
        f"ingest / raw Lua batch baseline = {m['ingest'] / baseline:.2f} (target ≥ 0.50); "
        f"the agent saw {median([float(n) for n in seen]):,.0f} of {len(ticks):,} ticks"
    )


if __name__ == "__main__":
    main()
