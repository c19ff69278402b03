"""`eaflow worker TOPIC...`: run only the agents of some topics, e.g. on another machine."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from eaflow.cli.gateway import GatewayHostOption, GatewayPortOption
from eaflow.cli.options import (
    DataDirOption,
    LogFormatOption,
    MetricsPortOption,
    Mt5Option,
    PrefixOption,
    RedisOption,
    require_redis,
    settings_from,
    with_mt5,
)
from eaflow.cli.running import print_running
from eaflow.exporter import export_metrics
from eaflow.install.pipeline import build_pipeline
from eaflow.plugins import plugin_names
from eaflow.runner import serve
from eaflow.startup import install_when_ready
from model.errors import MissingExtra
from processors.ticks.replay import ReplayConfig

BUILT_IN = (
    "rtss (router), orders (executors), ticks (tick feed, tables, simulated fills), "
    "rtrs (DuckDB and ClickHouse sinks), gateway (webhook, chart, config API), "
    "notify (notifications through Apprise)"
)


def topics_help(plugins: list[str]) -> str:
    """The TOPICS help: every built-in topic, and the installed plugins by name (their entry
    points' names: listing them loads nothing)."""
    if not plugins:
        return f"{BUILT_IN}; or an installed plugin's name (none installed: eaflow plugins)."
    return f"{BUILT_IN}; plugins: {', '.join(plugins)}."


def worker(
    topics: Annotated[list[str], typer.Argument(help=topics_help(plugin_names()))],
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    log_format: LogFormatOption = "console",
    instance: Annotated[
        list[str] | None, typer.Option("--instance", "-i", help="Host only these instances.")
    ] = None,
    speed: Annotated[float, typer.Option(help="Tick replay speed (ticks worker).")] = 1.0,
    mt5: Mt5Option = None,
    metrics_port: MetricsPortOption = None,
    data_dir: DataDirOption = None,
    host: GatewayHostOption = None,
    port: GatewayPortOption = None,
    spawn: Annotated[
        str | None,
        typer.Option(
            envvar="EAFLOW_SPAWN",
            help='Broker schemes whose instances run one process each (default mt5; "" for none).',
        ),
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(
            envvar="EAFLOW_PROCESSES",
            min=1,
            max=64,
            help="orders: split the other instances over this many processes (one per core).",
        ),
    ] = None,
) -> None:
    """Run the agents of TOPICS, named as the streams they read, and print what runs here."""
    settings = with_mt5(settings_from(redis, prefix, log_format), mt5)
    settings = settings.model_copy(
        update={
            k: v
            for k, v in (
                ("metrics_port", metrics_port),
                ("spawn", spawn),
                ("processes", processes),
                ("data_dir", data_dir),
                ("http_host", host),
                ("http_port", port),
            )
            if v is not None
        }
    )
    url = require_redis(settings)

    async def main() -> None:
        try:
            pipeline = await install_when_ready(
                lambda: build_pipeline(settings, url, instance or (), ReplayConfig(speed=speed)),
                topics,
            )
        except ValueError as error:
            raise typer.BadParameter(str(error)) from error
        except MissingExtra as error:  # an optional dependency a topic needs: the hint
            typer.echo(f"worker: {error}", err=True)
            raise typer.Exit(1) from error
        if settings.metrics_port is not None:
            export_metrics(pipeline, settings.metrics_port)
        await serve(pipeline, lambda: print_running(pipeline))

    asyncio.run(main())


def register(app: typer.Typer) -> None:
    app.command()(worker)
