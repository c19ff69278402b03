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
from eaflow.install.pipeline import build_pipeline
from eaflow.plugins import plugin_groups
from eaflow.settings import Settings
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

    async def read() -> tuple[
        list[StreamStatus], list[InstanceRow], list[SinkStatus], dict[str, str]
    ]:
        client = async_client(url)
        try:
            found = await stream_status(client, settings.prefix)
            rtrs = [s for s in found if s.name == "rtrs"]
            sinks = await sink_status(client, rtrs[0].key, rtrs[0].groups) if rtrs else []
            kinds = await reader_kinds(settings, url) if sinks else {}
            rows = await instance_rows(InstanceRegistry(client, settings.prefix))
            return found, rows, sinks, kinds
        finally:
            await client.aclose()

    streams, instances, sinks, kinds = asyncio.run(read())
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
        lag = Table("reader of rtrs", "is", "unread results", "oldest waiting")
        for sink in sinks:
            age = "" if sink.oldest_age is None else f"{sink.oldest_age:.1f} s"
            lag.add_row(sink.name, kinds.get(sink.name, UNKNOWN), str(sink.unwritten), age)
        Console().print(lag)
    if instances:
        Console().print(instances_table(instances))


BUILT_IN_SINKS = ("duckdb", "clickhouse")
UNKNOWN = "unknown: no installed plugin has this group"


async def reader_kinds(settings: Settings, url: str) -> dict[str, str]:
    """What each group on `rtrs` is: a built-in sink, or an installed plugin's processor or
    sink (found by installing the plugins into a pipeline that never starts)."""
    kinds = {name: "sink" for name in BUILT_IN_SINKS}
    pipeline = build_pipeline(settings, url)
    try:
        owners = await plugin_groups(pipeline)
    finally:
        await pipeline.close()
    rtrs = pipeline.topics.rtrs.key
    for (key, group), found in owners.items():
        if key == rtrs:
            kinds[group] = f"{found.kind} (plugin {found.name})"
    return kinds


def register(app: typer.Typer) -> None:
    app.command()(status)
