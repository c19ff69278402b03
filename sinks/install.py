"""Result stores as agents of an app: each a batch agent on `rtrs` (and one on `trades` per
database), plus the trim of `rtrs` and the sink lag gauge. The `rtrs` worker
(eaflow/install/sinks.py) and sink plugins use it."""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

import structlog
from redis.asyncio import Redis

from model import Result
from model.trade import TradeState
from sinks.agent import ResultSink, Rows
from sinks.batch import results_table
from sinks.clickhouse import ClickHouseStore
from sinks.config import SinkConfig
from sinks.duckdb import DuckDbStore
from sinks.lag import sink_lag
from sinks.schema import RESULTS, Table
from sinks.trades import TRADES, trades_table
from sinks.trim import trim_results
from sinks.types import ResultStore
from streams import App, Topic

log = structlog.get_logger(__name__)

IDLE_CHECK = 1.0
V = TypeVar("V")


def reraise_swallowed_cancel() -> None:
    """Raise the cancellation a Redis call swallowed, so the app's stop does not hang.

    On Python 3.11, `asyncio.wait_for` (which redis-py uses for socket timeouts) drops a
    cancel that arrives as the call completes; the timer would then run forever.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def result_stores(config: SinkConfig, table: Table = RESULTS) -> list[ResultStore]:
    """The configured databases' stores of `table`."""
    stores: list[ResultStore] = []
    if config.duckdb_path is not None:
        stores.append(DuckDbStore(config.duckdb_path, table))
    if config.clickhouse_url is not None:
        stores.append(ClickHouseStore(config.clickhouse_url, config.clickhouse_database, table))
    return stores


def install_store(
    app: App, rtrs: Topic[Result], store: ResultStore, idle_close: float = 2.0
) -> ResultSink[Result]:
    """Run `store` as a sink of `rtrs` (see `install_table_store`). Sink plugins use it."""
    return install_table_store(app, rtrs, store, results_table, idle_close)


def install_table_store(
    app: App, topic: Topic[V], store: ResultStore, rows: Rows[V], idle_close: float = 2.0
) -> ResultSink[V]:
    """Run `store` as a sink: a batch agent on `topic` in the consumer group `store.name`,
    which never dead-letters (a failing batch stays pending and is retried) and starts at
    the stream's first entry, so entries written before the sink first ran are not lost."""
    sink = ResultSink(store, rows, idle_close)
    name = f"sink-{sink.name}"
    app.agent(topic, group=sink.name, batch=True, dlq=False, start_id="0", name=name)(sink.handle)
    app.timer(IDLE_CHECK, name=f"sink-{sink.name}-idle")(sink.close_if_idle)
    app.task(sink.hold, name=f"sink-{sink.name}-close")
    return sink


def install_result_sinks(
    app: App,
    rtrs: Topic[Result],
    config: SinkConfig,
    redis: Redis | None = None,
    trades: Topic[TradeState] | None = None,
) -> list[ResultSink[Any]]:
    """The DuckDB and ClickHouse sinks of `config` (of `trades` too when given), the trim of
    `rtrs` and the lag gauge."""
    client = redis or app.redis
    sinks: list[ResultSink[Any]] = [
        install_store(app, rtrs, s, config.idle_close) for s in result_stores(config)
    ]
    names = [sink.name for sink in sinks]
    if trades is not None:
        sinks += [
            install_table_store(app, trades, s, trades_table, config.idle_close)
            for s in result_stores(config, TRADES)
        ]

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
