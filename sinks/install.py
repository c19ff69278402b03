"""The `rtrs` worker: DuckDB and ClickHouse sinks, the trim of `rtrs`, the sink lag gauge."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from sinks.agent import ResultSink
from sinks.clickhouse import CHDB_HINT, ClickHouseStore
from sinks.config import SinkConfig
from sinks.duckdb import DuckDbStore
from sinks.lag import sink_lag
from sinks.trim import trim_results
from sinks.types import ResultStore

if TYPE_CHECKING:
    from eaflow.pipeline import Pipeline

log = structlog.get_logger(__name__)

IDLE_CHECK = 1.0


def result_stores(config: SinkConfig) -> list[ResultStore]:
    stores: list[ResultStore] = []
    if config.duckdb_path is not None:
        stores.append(DuckDbStore(config.duckdb_path))
    if config.clickhouse_url is not None:
        stores.append(ClickHouseStore(config.clickhouse_url, config.clickhouse_database))
    return stores


def install_result_sinks(p: Pipeline, config: SinkConfig) -> list[ResultSink]:
    """One batch agent per store on `rtrs`, its group named after the store. Groups start
    at the stream's first entry, so results written before a sink first ran are not lost."""
    sinks = [ResultSink(store, config.idle_close) for store in result_stores(config)]
    for sink in sinks:
        p.app.agent(
            p.topics.rtrs,
            group=sink.name,
            batch=True,
            dlq=False,
            start_id="0",
            name=f"sink-{sink.name}",
        )(sink.handle)
        p.app.timer(IDLE_CHECK, name=f"sink-{sink.name}-idle")(sink.close_if_idle)
        p.app.task(sink.hold, name=f"sink-{sink.name}-close")
    key = p.topics.rtrs.key
    names = [sink.name for sink in sinks]

    async def trim() -> None:
        trimmed = await trim_results(p.app.redis, key, config.keep_results)
        if trimmed:
            log.info("rtrs_trimmed", entries=trimmed)

    async def lag() -> None:
        await sink_lag(p.app.redis, key, names)

    p.app.timer(config.trim_interval, name="rtrs-trim")(trim)
    p.app.timer(config.lag_interval, name="sink-lag")(lag)
    return sinks


async def install_sinks(p: Pipeline) -> None:
    """Installer of the `rtrs` worker topic (see eaflow/components.py)."""
    config = SinkConfig.from_settings(p.settings)
    sinks = install_result_sinks(p, config)
    for sink in sinks:
        where = getattr(sink.store, "path", None) or getattr(sink.store, "url", "")
        p.running.append(f"sink {sink.name}: rtrs → {where} (group {sink.name})")
    if config.clickhouse_url is None:
        p.running.append(f"sink clickhouse: off — {CHDB_HINT}")
        log.warning("clickhouse_sink_off", hint=CHDB_HINT)
