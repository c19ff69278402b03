"""Result stores as agents of an app: each a batch agent on `rtrs` (and one on `trades` and
on `rts` per database), plus the trim of `rtrs` and the sink lag gauge. The `rtrs` worker
(eaflow/install/sinks.py) and sink plugins use it."""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

import structlog
from redis.asyncio import Redis

from model import Result
from model.trade import TradeState
from sinks.agent import ResultSink, Rows, Written
from sinks.batch import results_table
from sinks.clickhouse import ClickHouseStore
from sinks.config import SinkConfig
from sinks.duckdb import DuckDbStore
from sinks.lag import sink_lag
from sinks.schema import RESULTS, Table
from sinks.states import STATES, StateRows
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
    app: App,
    topic: Topic[V],
    store: ResultStore,
    rows: Rows[V],
    idle_close: float = 2.0,
    written: Written | None = None,
) -> ResultSink[V]:
    """Run `store` as a sink: a batch agent on `topic` in the consumer group `store.name`,
    which never dead-letters (a failing batch stays pending and is retried) and starts at
    the stream's first entry, so entries written before the sink first ran are not lost."""
    sink = ResultSink(store, rows, idle_close, written)
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
    states: Topic[object] | None = None,
) -> list[ResultSink[Any]]:
    """The DuckDB and ClickHouse sinks of `config` (of `trades` and of `rts`, `states`, too
    when given), the trim of `rtrs` and the lag gauge of each stream's sinks.

    `rts` is not trimmed here: its producer caps it (XADD MAXLEN ~, model/topics.py), so a
    states sink stopped longer than the cap covers misses the oldest snapshots it did not
    read (docs/analytics.md, "The `account_states` table")."""
    client = redis or app.redis
    sinks: list[ResultSink[Any]] = [
        install_store(app, rtrs, s, config.idle_close) for s in result_stores(config)
    ]
    lagging = {rtrs.key: [sink.name for sink in sinks]}
    if trades is not None:
        made = [
            install_table_store(app, trades, s, trades_table, config.idle_close)
            for s in result_stores(config, TRADES)
        ]
        lagging[trades.key] = [sink.name for sink in made]
        sinks += made
    if states is not None:
        recorders: list[ResultSink[object]] = []
        for store in result_stores(config, STATES):
            rows = StateRows(config.state_interval)  # one per sink: each has its own pace
            recorders.append(
                install_table_store(app, states, store, rows, config.idle_close, rows.written)
            )
        lagging[states.key] = [sink.name for sink in recorders]
        sinks += recorders

    async def trim() -> None:
        trimmed = await trim_results(client, rtrs.key, config.keep_results)
        reraise_swallowed_cancel()
        if trimmed:
            log.info("rtrs_trimmed", entries=trimmed)

    async def lag() -> None:
        for key, names in lagging.items():
            await sink_lag(client, key, names)
            reraise_swallowed_cancel()

    app.timer(config.trim_interval, name="rtrs-trim")(trim)
    app.timer(config.lag_interval, name="sink-lag")(lag)
    return sinks
