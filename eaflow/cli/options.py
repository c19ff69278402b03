"""Options shared by commands, and the helpers that turn them into settings and clients."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from eaflow.logging import configure_logging
from eaflow.settings import Settings

RedisOption = Annotated[
    str | None,
    typer.Option(
        "--redis", envvar="EAFLOW_REDIS_URL", help="Redis URL (redis://, rediss://, unix://)."
    ),
]
PrefixOption = Annotated[
    str, typer.Option("--prefix", envvar="EAFLOW_PREFIX", help="Key prefix of every stream.")
]
LogFormatOption = Annotated[
    str, typer.Option("--log-format", envvar="EAFLOW_LOG_FORMAT", help="console or json.")
]

Mt5Option = Annotated[
    str | None,
    typer.Option(
        "--mt5",
        envvar="EAFLOW_MT5",
        metavar="HOST:PORT",
        help="An mt5linux server (a terminal under Wine): mt5:// instances trade through it.",
    ),
]

MetricsPortOption = Annotated[
    int | None,
    typer.Option(
        "--metrics-port",
        envvar="EAFLOW_METRICS_PORT",
        min=0,
        max=65535,
        help="Serve Prometheus metrics on this port (0: any free port).",
    ),
]


DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="EAFLOW_DATA_DIR",
        help="Where the DuckDB file and embedded databases live (default ./var).",
    ),
]


def with_mt5(settings: Settings, mt5: str | None) -> Settings:
    """The settings with `--mt5 host:port`, checked (BadParameter names the rule)."""
    if mt5 is None:
        return settings
    from brokers.mt5.config import parse_endpoint

    try:
        parse_endpoint(mt5)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--mt5") from error
    return settings.model_copy(update={"mt5": mt5})


def settings_from(redis_url: str | None, prefix: str, log_format: str = "console") -> Settings:
    settings = Settings.from_env(redis_url=redis_url, prefix=prefix, log_format=log_format)
    configure_logging(settings.log_format, settings.log_level)
    return settings


def require_redis(settings: Settings) -> str:
    if settings.redis_url is None:
        raise typer.BadParameter("give --redis URL or set EAFLOW_REDIS_URL", param_hint="--redis")
    return settings.redis_url
