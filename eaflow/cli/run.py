"""`eaflow run`: the whole pipeline in one process on embedded defaults."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from eaflow.cli.options import (
    LogFormatOption,
    MetricsPortOption,
    Mt5Option,
    PrefixOption,
    RedisOption,
    settings_from,
    with_mt5,
)
from eaflow.demo import seed_demo
from eaflow.embedded import EmbeddedRedis
from eaflow.exporter import export_metrics
from eaflow.install.pipeline import Pipeline, build_pipeline
from eaflow.install.workers import install
from eaflow.passwords import redact_url
from eaflow.runner import serve
from processors.ticks.replay import ReplayConfig

WORKERS = ("ticks", "orders", "rtss", "rtrs", "gateway")


def run(
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    log_format: LogFormatOption = "console",
    instances: Annotated[int, typer.Option(help="Demo instances to create on first start.")] = 3,
    speed: Annotated[float, typer.Option(help="Tick replay speed: 1 real time, 0 max.")] = 1.0,
    data_dir: Annotated[Path, typer.Option(help="Where embedded Redis and databases live.")] = Path(
        "var"
    ),
    mt5: Mt5Option = None,
    metrics_port: MetricsPortOption = None,
) -> None:
    """Run everything: embedded Redis (unless --redis), simulated accounts replaying real
    ticks, router, executors. Ctrl-C stops it cleanly."""
    settings = with_mt5(settings_from(redis, prefix, log_format), mt5).model_copy(
        update={"data_dir": data_dir}
    )
    if metrics_port is not None:
        settings = settings.model_copy(update={"metrics_port": metrics_port})
    embedded = EmbeddedRedis(settings.data_dir / "redis") if settings.redis_url is None else None
    url = embedded.start() if embedded is not None else settings.redis_url
    assert url is not None
    try:
        asyncio.run(
            _run(build_pipeline(settings, url, replay=ReplayConfig(speed=speed)), instances)
        )
    finally:
        if embedded is not None:
            embedded.stop()


async def _run(pipeline: Pipeline, count: int) -> None:
    created = await seed_demo(
        pipeline.registry, pipeline.redis_url, pipeline.settings.prefix, count
    )
    await install(pipeline, WORKERS)
    if pipeline.settings.metrics_port is not None:
        export_metrics(pipeline, pipeline.settings.metrics_port)

    async def show() -> None:
        table = Table(title="eaflow is running", show_header=False)
        table.add_row("redis", redact_url(pipeline.redis_url))
        table.add_row("instances", ", ".join(created))
        for line in pipeline.running:
            table.add_row("", line)
        table.add_row(
            "send a signal",
            f"eaflow send --redis {redact_url(pipeline.redis_url)} "
            '\'{"symbol": "EURUSD", "order_type": "buy", "volume": 0.1}\'',
        )
        Console(stderr=True).print(table)

    await serve(pipeline, show)


def register(app: typer.Typer) -> None:
    app.command()(run)
