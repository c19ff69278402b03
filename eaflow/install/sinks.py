"""The `rtrs` worker: the DuckDB and ClickHouse sinks of results and of trade states, the
trim of `rtrs`, the lag gauge."""

from __future__ import annotations

import importlib.util

import structlog

from eaflow.install.pipeline import Pipeline
from eaflow.settings import Settings
from sinks.clickhouse import CHDB_HINT, chdb_url
from sinks.config import SinkConfig
from sinks.database import database_path
from sinks.install import install_result_sinks
from sinks.trades import TRADES

log = structlog.get_logger(__name__)


def sink_config(settings: Settings) -> SinkConfig:
    """DuckDB in the data dir; ClickHouse at the configured URL, else embedded chDB when it
    is installed (none otherwise: the sink is off, with the install hint)."""
    url = settings.clickhouse_url
    if url is None and importlib.util.find_spec("chdb") is not None:
        url = chdb_url(settings.data_dir)
    return SinkConfig(duckdb_path=database_path(settings.data_dir), clickhouse_url=url)


async def install_sinks(p: Pipeline) -> None:
    config = sink_config(p.settings)
    sinks = install_result_sinks(p.app, p.topics.rtrs, config, trades=p.topics.trades)
    for sink in sinks:
        where = getattr(sink.store, "path", None) or getattr(sink.store, "url", "")
        topic = "trades" if sink.name.endswith(TRADES.tag) else "rtrs"
        p.running.append(f"sink {sink.name}: {topic} → {where} (group {sink.name})")
    if config.clickhouse_url is None:
        p.running.append(f"sink clickhouse: off — {CHDB_HINT}")
        log.warning("clickhouse_sink_off", hint=CHDB_HINT)
