"""`eaflow plugins`: the processors and sinks other installed packages add, with their topics;
`eaflow plugins remove NAME` deletes a plugin's consumer groups before it is uninstalled."""

from __future__ import annotations

import asyncio
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from eaflow.cli.options import PrefixOption, RedisOption, require_redis, settings_from
from eaflow.install.pipeline import Installer, build_pipeline
from eaflow.install.workers import BUILTINS
from eaflow.plugins import DEFAULT_START, Found, discover, groups_of, starting
from eaflow.settings import Settings

plugins_app = typer.Typer(
    help="Processors and sinks of other installed packages (entry point groups "
    "eaflow.processors and eaflow.sinks); run one with `eaflow worker NAME`.",
    invoke_without_command=True,
)


def as_dict(found: Found) -> dict[str, object]:
    plugin = found.plugin
    return {
        "name": found.name,
        "kind": found.kind,
        "target": found.target,
        "package": found.package,
        "reads": list(plugin.reads) if plugin else [],
        "writes": list(plugin.writes) if plugin else [],
        "description": plugin.description if plugin else "",
        "start": (plugin.start or DEFAULT_START[found.kind]) if plugin else None,
        "error": found.error,
    }


@plugins_app.callback()
def plugins(
    context: typer.Context,
    json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List plugins (entry point groups eaflow.processors and eaflow.sinks), with where
    their groups start (new entries, or all the stream holds); run one with
    `eaflow worker NAME`, remove its groups with `eaflow plugins remove NAME`."""
    if context.invoked_subcommand is not None:
        return
    found = discover()
    if json:
        typer.echo(orjson.dumps([as_dict(f) for f in found]).decode())
        return
    console = Console()
    if not found:
        console.print("no plugins installed (see docs/plugins.md)")
        return
    table = Table("worker", "kind", "reads", "writes", "starts at", "package", "description")
    for item in found:
        plugin = item.plugin
        if plugin is None:
            error = f"[red]{item.error}[/red]"
            table.add_row(item.name, item.kind, "", "", "", item.package, error)
        else:
            table.add_row(
                item.name,
                item.kind,
                ", ".join(plugin.reads),
                ", ".join(plugin.writes),
                plugin.start or DEFAULT_START[item.kind],
                item.package,
                plugin.description,
            )
    console.print(table)


@plugins_app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The plugin's worker name (eaflow plugins).")],
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
) -> None:
    """Delete the consumer groups of plugin NAME's agents (their unacknowledged entries with
    them), so `eaflow status` no longer shows them and `rtrs` is trimmed without waiting for
    it. Stop its workers first, and run this before uninstalling the package: the groups are
    found by installing the plugin into a pipeline that never starts."""
    settings = settings_from(redis, prefix)
    url = require_redis(settings)
    if name in BUILTINS:
        raise typer.BadParameter(f"{name!r} is a built-in worker, not a plugin", param_hint="NAME")
    found = {f.name: f for f in discover()}.get(name)
    if found is None or found.plugin is None:
        why = "not installed" if found is None else found.error
        raise typer.BadParameter(
            f"{name!r}: {why}; delete its groups by hand: XGROUP DESTROY {prefix}STREAM GROUP "
            "(eaflow status lists them)",
            param_hint="NAME",
        )
    removed = asyncio.run(_destroy(url, settings, starting(found.plugin, found.kind)))
    for key, group, deleted in removed:
        typer.echo(f"{key}: group {group} {'deleted' if deleted else 'was not there'}")
    typer.echo(f"{name}: {sum(d for *_, d in removed)} consumer groups deleted")


async def _destroy(
    url: str, settings: Settings, installer: Installer
) -> list[tuple[str, str, bool]]:
    """XGROUP DESTROY each (stream, group) of the plugin's agents: (key, group, deleted)."""
    pipeline = build_pipeline(settings, url)
    try:
        groups = await groups_of(installer, pipeline)
        return [
            (key, group, bool(await pipeline.redis.xgroup_destroy(key, group)))
            for key, group in groups
        ]
    finally:
        await pipeline.close()


def register(app: typer.Typer) -> None:
    app.add_typer(plugins_app, name="plugins")
