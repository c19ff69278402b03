"""The rtrs sinks on real Redis, DuckDB and chDB: exactly once under redelivery, catching up
after a sink was down, trimming only what every sink acked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import duckdb
import pytest
import redis.asyncio as aioredis
from clickhouse_connect.driver.exceptions import DatabaseError
from prometheus_client import REGISTRY

from model import Result
from sinks.batch import results_table
from sinks.clickhouse import ClickHouseStore, chdb_url, connect
from sinks.config import SinkConfig
from sinks.duckdb import DuckDbStore
from sinks.install import install_result_sinks
from sinks.lag import sink_lag
from streams import App, AppSettings, ModelCodec, Topic
from streams.reader import stream_id
from tests.sinks.conftest import LockHolder, fill, rejection

FAST = {
    "prefix": "t:",
    "block_ms": 50,
    "retry_initial": 0.01,
    "retry_max": 0.1,
    "claim_interval": 0.1,
    "claim_min_idle_ms": 100,
}


def config(tmp_path: Path, **changes: object) -> SinkConfig:
    values: dict[str, object] = {
        "duckdb_path": tmp_path / "eaflow.duckdb",
        "clickhouse_url": chdb_url(tmp_path),
        "idle_close": 0.0,
        "trim_interval": 0.1,
        "keep_results": 0.0,
        "lag_interval": 0.1,
    }
    values.update(changes)
    return SinkConfig.model_validate(values)


class Run:
    """An app running the sinks of `config` on the test Redis."""

    def __init__(self, redis_url: str, config: SinkConfig) -> None:
        self.app = App(AppSettings.model_validate({"redis_url": redis_url, **FAST}))
        self.rtrs: Topic[Result] = self.app.topic("rtrs", codec=ModelCodec(Result))
        self.sinks = install_result_sinks(self.app, self.rtrs, config)


@pytest.fixture
async def r(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def until(check: Callable[[], Awaitable[bool]], what: str, limit: float = 30) -> None:
    """Poll until `check` holds; a deadline against hanging, not a speed requirement."""
    deadline = asyncio.get_running_loop().time() + limit
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def duckdb_rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(path))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def chdb_rows(url: str, sql: str) -> list[tuple[object, ...]]:
    client = connect(url)
    try:
        return list(client.query(sql).result_rows)
    finally:
        client.close()


async def both_hold(cfg: SinkConfig, count: int) -> bool:
    assert cfg.duckdb_path is not None and cfg.clickhouse_url is not None
    in_duckdb = duckdb_rows(cfg.duckdb_path, "SELECT count(*) FROM results")
    try:
        in_chdb = chdb_rows(cfg.clickhouse_url, "SELECT count() FROM eaflow.results")
    except DatabaseError:  # the sink has not created its table yet
        return False
    return in_duckdb == [(count,)] and in_chdb == [(count,)]


def failures(sink: str) -> float:
    return REGISTRY.get_sample_value("eaflow_sink_failures_total", {"sink": sink}) or 0.0


async def test_results_reach_both_databases_exactly_once_under_redelivery(
    redis_url: str, r: aioredis.Redis, tmp_path: Path
) -> None:
    cfg = config(tmp_path)
    run = Run(redis_url, cfg)
    results = [fill(n, instance=f"demo-{n % 4 + 1}") for n in range(150)]
    results += [rejection(n) for n in range(30)]
    ids = await run.app.send_many(run.rtrs, results)
    await run.app.send_many(run.rtrs, results[:20])  # the executor's output, written twice
    # A sink consumer read the first 50 results, wrote them, and died before acking.
    for group, store in (
        ("duckdb", DuckDbStore(tmp_path / "eaflow.duckdb")),
        ("clickhouse", ClickHouseStore(chdb_url(tmp_path))),
    ):
        await r.xgroup_create("t:rtrs", group, id="0")
        read: Any = await r.xreadgroup(group, "dead-consumer", {"t:rtrs": ">"}, count=50)
        assert len(read[0][1]) == 50
        store.write(results_table(zip(ids[:50], results[:50], strict=True)))
        store.close()
    await run.app.start()
    try:
        await until(lambda: both_hold(cfg, 180), "180 results in both databases")

        async def caught_up() -> bool:
            return await sink_lag(r, "t:rtrs", ["duckdb", "clickhouse"]) == {
                "duckdb": 0,
                "clickhouse": 0,
            }

        await until(caught_up, "both sinks to ack everything, claimed entries included")
    finally:
        await run.app.stop()
    assert cfg.duckdb_path is not None and cfg.clickhouse_url is not None
    assert duckdb_rows(cfg.duckdb_path, "SELECT count(DISTINCT result_id) FROM results") == [(180,)]
    assert chdb_rows(cfg.clickhouse_url, "SELECT count() FROM eaflow.results_log") == [(180,)]
    stream_ids = duckdb_rows(
        cfg.duckdb_path, "SELECT stream_id FROM results WHERE result_id = 'o7@demo-4'"
    )
    assert stream_ids == [(ids[7],)]  # the first entry of a result wins


async def test_a_sink_down_for_a_while_catches_up_in_order(
    redis_url: str, r: aioredis.Redis, tmp_path: Path
) -> None:
    cfg = config(tmp_path)
    assert cfg.duckdb_path is not None and cfg.clickhouse_url is not None
    path, url = cfg.duckdb_path, cfg.clickhouse_url
    DuckDbStore(cfg.duckdb_path).open()  # the file exists, and another process locks it
    (tmp_path / "clickhouse").write_text("a file where chDB wants its directory")
    holder = LockHolder(cfg.duckdb_path)
    before = {sink: failures(sink) for sink in ("duckdb", "clickhouse")}
    run = Run(redis_url, cfg)
    await run.app.start()
    try:
        results = [fill(n) for n in range(200)]
        done = [result.done_at for result in results]
        ids = await run.app.send_many(run.rtrs, results[:100])

        async def both_failing() -> bool:
            return all(failures(sink) >= before[sink] + 2 for sink in before)

        await until(both_failing, "both sinks to fail and retry")
        lags = await sink_lag(r, "t:rtrs", ["duckdb", "clickhouse"])
        assert lags == {"duckdb": 100, "clickhouse": 100}  # kept pending, nothing lost
        await run.app.stop()  # and the sinks are stopped for a while too
        ids += await run.app.send_many(run.rtrs, results[100:])
        await run.app.redis.aclose()  # the connection this send opened after the stop
        holder.release()
        (tmp_path / "clickhouse").unlink()

        async def claimable() -> bool:
            """The stopped consumers' entries are idle enough for the next run to claim them
            first; before that it would read the newer entries (ahead of them)."""
            idle = run.app.settings.claim_min_idle_ms
            for group in ("duckdb", "clickhouse"):
                pending: Any = await r.xpending_range("t:rtrs", group, "-", "+", 200)
                if any(int(e["time_since_delivered"]) <= idle for e in pending):
                    return False
            return True

        await until(claimable, "the stopped sinks' entries to be claimable")
        run = Run(redis_url, cfg)
        await run.app.start()

        async def caught_up_in_order() -> bool:
            """Every look at the databases finds a prefix of the stream: nothing newer is
            written before something older."""
            in_duckdb = [str(row[0]) for row in duckdb_rows(path, "SELECT stream_id FROM results")]
            assert sorted(in_duckdb, key=stream_id) == ids[: len(in_duckdb)]
            try:
                in_chdb = chdb_rows(url, "SELECT done_at FROM eaflow.results")
            except DatabaseError:  # the sink has not created its table yet
                return False
            assert sorted(cast(float, row[0]) for row in in_chdb) == done[: len(in_chdb)]
            return len(in_duckdb) == len(in_chdb) == 200

        await until(caught_up_in_order, "200 results in both databases")
    finally:
        await run.app.stop()
        holder.release()


async def test_rtrs_is_trimmed_only_below_what_every_sink_acked(
    redis_url: str, r: aioredis.Redis, tmp_path: Path
) -> None:
    cfg = config(tmp_path, clickhouse_url=None)
    run = Run(redis_url, cfg)
    await r.xgroup_create("t:rtrs", "slow-reader", id="0", mkstream=True)
    ids = await run.app.send_many(run.rtrs, [fill(n) for n in range(10)])
    await r.xreadgroup("slow-reader", "c", {"t:rtrs": ">"}, count=3)
    await r.xack("t:rtrs", "slow-reader", ids[0])  # acked 0, still pending 1 and 2
    await run.app.start()
    try:

        async def trimmed_to_the_slow_reader() -> bool:
            first: Any = await r.xrange("t:rtrs", count=1)
            return bool(first) and first[0][0].decode() == ids[1]

        await until(trimmed_to_the_slow_reader, "rtrs trimmed to the oldest pending entry")
        await asyncio.sleep(0.3)  # several more trims: none may go further
        assert await r.xlen("t:rtrs") == 9
        assert cfg.duckdb_path is not None
        assert duckdb_rows(cfg.duckdb_path, "SELECT count(*) FROM results") == [(10,)]
    finally:
        await run.app.stop()


async def test_recent_acked_results_stay_for_the_keep_window(
    redis_url: str, r: aioredis.Redis, tmp_path: Path
) -> None:
    cfg = config(tmp_path, clickhouse_url=None, keep_results=3600.0)
    run = Run(redis_url, cfg)
    await run.app.send_many(run.rtrs, [fill(n) for n in range(10)])
    await run.app.start()
    try:

        async def written() -> bool:
            return await sink_lag(r, "t:rtrs", ["duckdb"]) == {"duckdb": 0}

        await until(written, "the DuckDB sink to ack everything")
        await asyncio.sleep(0.3)
        assert await r.xlen("t:rtrs") == 10
    finally:
        await run.app.stop()
