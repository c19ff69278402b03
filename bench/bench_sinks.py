"""Result sinks: rows per second into DuckDB and chDB, beside reading the same results from
Redis and the row-by-row insert the sinks avoid.

In one run on a local redis-server: XRANGE of the results (the floor: a sink cannot go
faster than it reads), decoding them into an Arrow batch, DuckDB `executemany` row by row,
the DuckDB and chDB stores at two batch sizes, and the whole `rtrs` worker (both sink
agents) catching up on a backlog.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import redis.asyncio as aioredis

from bench.common import redis_server, report, smoke_mode
from model import Result
from sinks.batch import results_table
from sinks.clickhouse import ClickHouseStore, chdb_url
from sinks.config import SinkConfig
from sinks.duckdb import DuckDbStore
from sinks.install import install_result_sinks
from sinks.lag import sink_lag
from sinks.schema import COLUMN_NAMES, COLUMNS
from sinks.types import ResultStore
from streams import App, AppSettings, ModelCodec
from tests.redis_server import free_port
from tests.sinks.conftest import fill


def row(what: str, rows: int, seconds: float) -> dict[str, Any]:
    return {"what": what, "rows": rows, "seconds": seconds, "rows_per_s": rows / seconds}


def store_rate(store: ResultStore, results: list[Result], batch: int, label: str) -> dict[str, Any]:
    store.open()
    start = time.perf_counter()
    for first in range(0, len(results), batch):
        chunk = results[first : first + batch]
        store.write(results_table((f"{first + n}-0", r) for n, r in enumerate(chunk)))
    elapsed = time.perf_counter() - start
    store.close()
    return row(f"{label}, Arrow batches of {batch}", len(results), elapsed)


def executemany_rate(path: Path, results: list[Result]) -> dict[str, Any]:
    DuckDbStore(path).open()
    rows = results_table((f"{n}-0", r) for n, r in enumerate(results)).to_pylist()
    con = duckdb.connect(str(path))
    marks = ", ".join("?" for _ in COLUMNS)
    start = time.perf_counter()
    con.executemany(
        f"INSERT INTO results ({COLUMN_NAMES}) VALUES ({marks})",
        [[r[c.name] for c in COLUMNS] for r in rows],
    )
    elapsed = time.perf_counter() - start
    con.close()
    return row("DuckDB executemany, row by row (what the sinks avoid)", len(rows), elapsed)


async def redis_rates(url: str, results: list[Result]) -> list[dict[str, Any]]:
    app = App(AppSettings(redis_url=url, prefix="b:", block_ms=50))
    rtrs = app.topic("rtrs", codec=ModelCodec(Result))
    for first in range(0, len(results), 1000):
        await app.send_many(rtrs, results[first : first + 1000])
    client = aioredis.Redis.from_url(url)
    start = time.perf_counter()
    entries: list[Any] = []
    lower = "-"
    while True:
        page: Any = await client.xrange("b:rtrs", min=lower, max="+", count=1000)
        entries += page
        if len(page) < 1000:
            break
        lower = f"({page[-1][0].decode()}"
    read = time.perf_counter() - start
    start = time.perf_counter()
    decoded = [(i.decode(), Result.model_validate_json(f[b"d"])) for i, f in entries]
    results_table(decoded)
    convert = time.perf_counter() - start
    await client.aclose()
    await app.redis.aclose()
    return [
        row("raw Redis: XRANGE the results, pages of 1000", len(entries), read),
        row("decode (pydantic) + build the Arrow batch", len(entries), convert),
    ]


async def worker_rate(url: str, where: Path, count: int) -> dict[str, Any]:
    config = SinkConfig(duckdb_path=where / "eaflow.duckdb", clickhouse_url=chdb_url(where))
    app = App(AppSettings(redis_url=url, prefix="w:", block_ms=50, batch_size=1000))
    rtrs = app.topic("rtrs", codec=ModelCodec(Result))
    results = [fill(n, instance=f"demo-{n % 10}") for n in range(count)]
    for first in range(0, count, 1000):
        await app.send_many(rtrs, results[first : first + 1000])
    install_result_sinks(app, rtrs, config)
    client = aioredis.Redis.from_url(url)
    start = time.perf_counter()
    await app.start()
    while True:
        lags = await sink_lag(client, "w:rtrs", ["duckdb", "clickhouse"])
        if lags == {"duckdb": 0, "clickhouse": 0}:
            break
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - start
    await app.stop()
    await client.aclose()
    return row("rtrs worker: backlog into DuckDB and chDB (both groups)", count, elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", type=int, default=20_000)
    parser.add_argument("--naive", type=int, default=2_000, help="rows for executemany")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if smoke_mode(args.smoke):
        args.results, args.naive = 500, 100
    results = [fill(n, instance=f"demo-{n % 10}") for n in range(args.results)]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, redis_server(free_port()) as url:
        where = Path(tmp)
        rows += asyncio.run(redis_rates(url, results))
        rows.append(executemany_rate(where / "naive.duckdb", results[: args.naive]))
        for batch in (100, 1000):
            rows.append(
                store_rate(DuckDbStore(where / f"d{batch}.duckdb"), results, batch, "DuckDB store")
            )
        for batch in (100, 1000):
            store = ClickHouseStore(chdb_url(where / f"c{batch}"))
            rows.append(store_rate(store, results, batch, "chDB store"))
        rows.append(asyncio.run(worker_rate(url, where / "worker", args.results)))
    report("sinks", f"Result sinks, {args.results} results", rows, {"args": vars(args)})


if __name__ == "__main__":
    main()
