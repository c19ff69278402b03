"""`eaflow status`: every stream's length, each group's lag and pending, and DLQ sizes."""

from __future__ import annotations

import asyncio
import dataclasses

import orjson
import typer
from rich.console import Console
from rich.table import Table

from eaflow.cli.instances import instances_table
from eaflow.cli.options import PrefixOption, RedisOption, require_redis, settings_from
from processors.manager.commands import InstanceRow
from processors.manager.commands import rows as instance_rows
from processors.registry import InstanceRegistry
from sinks.lag import SinkStatus, sink_status
from streams.clients import async_client
from streams.inspect import StreamStatus, stream_status


def status(
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Show streams, consumer groups (lag, pending, consumers), dead letters and the
    instances (status, configuration version, equity)."""
    settings = settings_from(redis, prefix)
    url = require_redis(settings)

    async def read() -> tuple[list[StreamStatus], list[InstanceRow], list[SinkStatus]]:
        client = async_client(url)
        try:
            found = await stream_status(client, settings.prefix)
            rtrs = [s for s in found if s.name == "rtrs"]
            sinks = await sink_status(client, rtrs[0].key, rtrs[0].groups) if rtrs else []
            return found, await instance_rows(InstanceRegistry(client, settings.prefix)), sinks
        finally:
            await client.aclose()

    streams, instances, sinks = asyncio.run(read())
    if json:
        typer.echo(orjson.dumps([dataclasses.asdict(s) for s in streams]).decode())
        return
    table = Table("stream", "length", "group", "lag", "pending", "consumers", "dead letters")
    for item in streams:
        dead = str(item.dlq_length) if item.dlq_length else ""
        if not item.groups:
            table.add_row(item.name, str(item.length), "", "", "", "", dead)
        for g in item.groups:
            table.add_row(
                item.name,
                str(item.length),
                g.name,
                str(g.lag),
                str(g.pending),
                str(g.consumers),
                dead,
            )
    Console().print(table)
    if sinks:
        lag = Table("sink", "unwritten results", "oldest waiting")
        for sink in sinks:
            age = "" if sink.oldest_age is None else f"{sink.oldest_age:.1f} s"
            lag.add_row(sink.name, str(sink.unwritten), age)
        Console().print(lag)
    if instances:
        Console().print(instances_table(instances))


def register(app: typer.Typer) -> None:
    app.command()(status)
