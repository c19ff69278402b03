"""`eaflow status`: every stream's length, each group's lag and pending, and DLQ sizes."""

from __future__ import annotations

import asyncio

import orjson
import redis.asyncio as aioredis
import typer
from rich.console import Console
from rich.table import Table

from eaflow.cli.options import PrefixOption, RedisOption, require_redis, settings_from
from streams.inspect import stream_status


def status(
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Show streams, consumer groups (lag, pending, consumers) and dead letters."""
    settings = settings_from(redis, prefix)
    url = require_redis(settings)

    async def read() -> list[object]:
        client = aioredis.Redis.from_url(url)
        try:
            return list(await stream_status(client, settings.prefix))
        finally:
            await client.aclose()

    streams = asyncio.run(read())
    if json:
        typer.echo(orjson.dumps(streams, default=lambda o: o.__dict__).decode())
        return
    table = Table("stream", "length", "group", "lag", "pending", "consumers")
    for item in streams:
        groups = getattr(item, "groups", ()) or ()
        if not groups:
            table.add_row(item.name, str(item.length), "", "", "", "")  # type: ignore[attr-defined]
        for g in groups:
            table.add_row(item.name, str(item.length), g.name, str(g.lag), str(g.pending),  # type: ignore[attr-defined]
                          str(g.consumers))
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command()(status)
