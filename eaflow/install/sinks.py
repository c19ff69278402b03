"""The `rtrs` worker: the DuckDB and ClickHouse sinks of results, of trade states and of
account states (`rts`, sampled every `EAFLOW_STATE_RECORD_INTERVAL`), the trim of `rtrs`, the
lag gauge, and the loss-limit transitions of `ris` recorded in the
configuration history (the DuckDB file it writes: the router runs without DuckDB)."""

from __future__ import annotations

import importlib.util

import structlog

from eaflow.config.risk import GROUP, RiskHistory
from eaflow.config.service import ConfigService
from eaflow.config.store import ConfigStore
from eaflow.install.pipeline import Pipeline
from eaflow.settings import Settings
from sinks.clickhouse import CHDB_HINT, chdb_url
from sinks.config import SinkConfig
from sinks.database import database_path
from sinks.install import install_result_sinks
from sinks.states import STATES
from sinks.trades import TRADES

log = structlog.get_logger(__name__)


def sink_config(settings: Settings) -> SinkConfig:
    """DuckDB in the data dir; ClickHouse at the configured URL, else embedded chDB when it
    is installed (none otherwise: the sink is off, with the install hint)."""
    url = settings.clickhouse_url
    if url is None and importlib.util.find_spec("chdb") is not None:
        url = chdb_url(settings.data_dir)
    return SinkConfig(
        duckdb_path=database_path(settings.data_dir),
        clickhouse_url=url,
        state_interval=settings.state_record_interval,
    )


async def install_sinks(p: Pipeline) -> None:
    config = sink_config(p.settings)
    topics = p.topics
    sinks = install_result_sinks(
        p.app, topics.rtrs, config, trades=topics.trades, states=topics.rts
    )
    for sink in sinks:
        where = getattr(sink.store, "path", None) or getattr(sink.store, "url", "")
        topic = "rtrs"
        if sink.name.endswith(TRADES.tag):
            topic = "trades"
        elif sink.name.endswith(STATES.tag):
            topic = f"rts (every {config.state_interval:g} s, and balance changes)"
        p.running.append(f"sink {sink.name}: {topic} → {where} (group {sink.name})")
    install_risk_history(p)
    if config.clickhouse_url is None:
        p.running.append(f"sink clickhouse: off — {CHDB_HINT}")
        log.warning("clickhouse_sink_off", hint=CHDB_HINT)


def install_risk_history(p: Pipeline) -> None:
    """`ris` → config_history, from the stream's start (transitions written before the
    worker first ran are recorded too); a version recorded is published like any change."""
    path = database_path(p.settings.data_dir)
    service = ConfigService(ConfigStore(path), p.registry)
    p.app.agent(p.topics.ris, group=GROUP, batch=True, dlq=False, start_id="0")(
        RiskHistory(service).handle
    )
    p.running.append(f"config history: ris risk_limit, risk_cleared → {path} (group {GROUP})")
