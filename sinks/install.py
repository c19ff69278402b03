"""Result stores as agents of an app: each a batch agent on `rtrs`, plus the trim of `rtrs`
and the sink lag gauge. The `rtrs` worker (eaflow/install/sinks.py) and sink plugins use it."""

from __future__ import annotations

import asyncio

import structlog
from redis.asyncio import Redis

from model import Result
from sinks.agent import ResultSink
from sinks.clickhouse import ClickHouseStore
from sinks.config import SinkConfig
from sinks.duckdb import DuckDbStore
from sinks.lag import sink_lag
from sinks.trim import trim_results
from sinks.types import ResultStore
from streams import App, Topic

log = structlog.get_logger(__name__)

IDLE_CHECK = 1.0


def reraise_swallowed_cancel() -> None:
    """Raise the cancellation a Redis call swallowed, so the app's stop does not hang.

    On Python 3.11, `asyncio.wait_for` (which redis-py uses for socket timeouts) drops a
    cancel that arrives as the call completes; the timer would then run forever.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def result_stores(config: SinkConfig) -> list[ResultStore]:
    stores: list[ResultStore] = []
    if config.duckdb_path is not None:
        stores.append(DuckDbStore(config.duckdb_path))
    if config.clickhouse_url is not None:
        stores.append(ClickHouseStore(config.clickhouse_url, config.clickhouse_database))
    return stores


def install_store(
    app: App, rtrs: Topic[Result], store: ResultStore, idle_close: float = 2.0
) -> ResultSink:
    """Run `store` as a sink: a batch agent on `rtrs` in the consumer group `store.name`,
    which never dead-letters (a failing batch stays pending and is retried) and starts at
    the stream's first entry, so results written before the sink first ran are not lost.
    Sink plugins use it too."""
    sink = ResultSink(store, idle_close)
    app.agent(rtrs, group=sink.name, batch=True, dlq=False, start_id="0", name=f"sink-{sink.name}")(
        sink.handle
    )
    app.timer(IDLE_CHECK, name=f"sink-{sink.name}-idle")(sink.close_if_idle)
    app.task(sink.hold, name=f"sink-{sink.name}-close")
    return sink


def install_result_sinks(
    app: App, rtrs: Topic[Result], config: SinkConfig, redis: Redis | None = None
) -> list[ResultSink]:
    """The DuckDB and ClickHouse sinks of `config`, the trim of `rtrs` and the lag gauge."""
    client = redis or app.redis
    sinks = [install_store(app, rtrs, s, config.idle_close) for s in result_stores(config)]
    names = [sink.name for sink in sinks]

    async def trim() -> None:
        trimmed = await trim_results(client, rtrs.key, config.keep_results)
        reraise_swallowed_cancel()
        if trimmed:
            log.info("rtrs_trimmed", entries=trimmed)

    async def lag() -> None:
        await sink_lag(client, rtrs.key, names)
        reraise_swallowed_cancel()

    app.timer(config.trim_interval, name="rtrs-trim")(trim)
    app.timer(config.lag_interval, name="sink-lag")(lag)
    return sinks
