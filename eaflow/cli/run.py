"""`eaflow run`: the whole pipeline in one process on embedded defaults."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from eaflow.cli.gateway import GatewayHostOption, GatewayPortOption
from eaflow.cli.options import (
    DataDirOption,
    LogFormatOption,
    MetricsPortOption,
    Mt5Option,
    PrefixOption,
    RedisOption,
    settings_from,
    with_mt5,
)
from eaflow.cli.running import data_path
from eaflow.demo import seed_demo
from eaflow.embedded import EmbeddedRedis
from eaflow.exporter import export_metrics
from eaflow.install.gateway import CHART
from eaflow.install.notify import notify_config
from eaflow.install.pipeline import Pipeline, build_pipeline
from eaflow.install.workers import install
from eaflow.passwords import redact_url
from eaflow.runner import serve
from eaflow.settings import Settings
from model.errors import MissingExtra
from processors.manager.children import Shards, WorkerProcess
from processors.manager.config import ManagerConfig
from processors.ticks.replay import ReplayConfig
from sinks.notify.sender import AppriseSender

WORKERS = ("ticks", "orders", "rtss", "gateway")
"""In this process; the result sinks (`rtrs`) run in a process of their own (decision 0012)."""


def run(
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    log_format: LogFormatOption = "console",
    instances: Annotated[int, typer.Option(help="Demo instances to create on first start.")] = 3,
    speed: Annotated[float, typer.Option(help="Tick replay speed: 1 real time, 0 max.")] = 1.0,
    data_dir: DataDirOption = None,
    host: GatewayHostOption = None,
    port: GatewayPortOption = None,
    mt5: Mt5Option = None,
    metrics_port: MetricsPortOption = None,
) -> None:
    """Run everything: embedded Redis (unless --redis), simulated accounts replaying real
    ticks, router, executors, gateway; the result sinks (and the notifier, when
    EAFLOW_NOTIFY_URLS is set) in a second process. Ctrl-C stops
    it cleanly. The embedded Redis, the databases and the viewer token live in the data
    directory (--data-dir)."""
    settings = with_mt5(settings_from(redis, prefix, log_format), mt5)
    options: dict[str, object] = {
        "data_dir": data_dir,
        "http_host": host,
        "http_port": port,
        "metrics_port": metrics_port,
    }
    settings = settings.model_copy(update={k: v for k, v in options.items() if v is not None})
    try:
        notify = notifies(settings)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    except MissingExtra as error:
        typer.echo(f"run: {error}", err=True)
        raise typer.Exit(1) from error
    embedded = EmbeddedRedis(settings.data_dir / "redis") if settings.redis_url is None else None
    url = embedded.start() if embedded is not None else settings.redis_url
    assert url is not None
    try:
        asyncio.run(
            _run(build_pipeline(settings, url, replay=ReplayConfig(speed=speed)), instances, notify)
        )
    finally:
        if embedded is not None:
            embedded.stop()


async def _run(pipeline: Pipeline, count: int, notify: int) -> None:
    created = await seed_demo(
        pipeline.registry, pipeline.redis_url, pipeline.settings.prefix, count
    )
    await install(pipeline, WORKERS)
    sinks = sinks_process(pipeline, notify)
    pipeline.app.task(Shards([sinks], SUPERVISE).run, name="sinks-process")
    pipeline.running.append(
        f"sinks: rtrs → DuckDB and chDB in {pipeline.settings.data_dir} (eaflow worker rtrs, "
        "its own process so database writes never hold up an order)"
    )
    pipeline.running.append(
        f"notify: rtrs, ris → {notify} Apprise URL(s), in the sinks' process"
        if notify
        else "notify: off — set EAFLOW_NOTIFY_URLS (Apprise URLs, docs/operations.md)"
    )
    if pipeline.settings.metrics_port is not None:
        export_metrics(pipeline, pipeline.settings.metrics_port)

    async def show() -> None:
        table = Table(title="eaflow is running", show_header=False)
        table.add_row("redis", redact_url(pipeline.redis_url))
        table.add_row("instances", ", ".join(created))
        table.add_row("data", str(data_path(pipeline.settings.data_dir)))
        links = [line for line in pipeline.running if line.startswith(CHART)]
        for line in pipeline.running:
            if line not in links:
                table.add_row("", line)
        table.add_row(
            "send a signal",
            f"eaflow send --redis {redact_url(pipeline.redis_url)} "
            '\'{"symbol": "EURUSD", "order_type": "buy", "volume": 0.1}\'',
        )
        console = Console(stderr=True)
        console.print(table)
        for line in links:  # whole, on a line of its own: a table cell would cut the link
            console.print(line, highlight=False, soft_wrap=True)

    await serve(pipeline, show)


SUPERVISE = 0.5
"""Seconds between looks at the sinks' process (restarted 3 s after it dies)."""


def notifies(settings: Settings) -> int:
    """How many Apprise URLs the notifier sends to (0: no notifier). Checked here, before
    anything starts: a bad URL or a missing Apprise would otherwise stop the sinks' process
    again at every restart."""
    config = notify_config(settings)
    if config is None:
        return 0
    AppriseSender(config.urls)  # refuses a URL Apprise cannot send to, or no Apprise
    return len(config.urls)


def sinks_process(pipeline: Pipeline, notify: int = 0) -> WorkerProcess:
    """`eaflow worker rtrs` on this pipeline's Redis, prefix, data directory and logs, with
    the notifier (`notify`) beside the sinks when it has URLs to send to."""
    s = pipeline.settings
    command = [
        sys.executable,
        "-m",
        "eaflow",
        "worker",
        "rtrs",
        *(["notify"] if notify else []),
        "--prefix",
        s.prefix,
        "--data-dir",
        str(s.data_dir),
        "--log-format",
        s.log_format,
    ]
    return WorkerProcess("sinks", command, ManagerConfig(), pipeline.redis_url)


def register(app: typer.Typer) -> None:
    app.command()(run)
