"""`eaflow worker TOPIC...`: run only the agents of some topics, e.g. on another machine."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from eaflow.cli.options import (
    LogFormatOption,
    Mt5Option,
    PrefixOption,
    RedisOption,
    require_redis,
    settings_from,
    with_mt5,
)
from eaflow.pipeline import build_pipeline, install
from eaflow.runner import serve
from processors.ticks.replay import ReplayConfig


def worker(
    topics: Annotated[list[str], typer.Argument(help="rtss (router), orders (executors), ticks.")],
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    log_format: LogFormatOption = "console",
    instance: Annotated[
        list[str] | None, typer.Option("--instance", "-i", help="Host only these instances.")
    ] = None,
    speed: Annotated[float, typer.Option(help="Tick replay speed (ticks worker).")] = 1.0,
    mt5: Mt5Option = None,
) -> None:
    """Run the agents of TOPICS, named as the streams they read."""
    settings = with_mt5(settings_from(redis, prefix, log_format), mt5)
    url = require_redis(settings)
    pipeline = build_pipeline(settings, url, instance or (), ReplayConfig(speed=speed))

    async def main() -> None:
        try:
            await install(pipeline, topics)
        except ValueError as error:
            raise typer.BadParameter(str(error)) from error
        await serve(pipeline)

    asyncio.run(main())


def register(app: typer.Typer) -> None:
    app.command()(worker)
