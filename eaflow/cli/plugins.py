"""`eaflow plugins`: the processors and sinks other installed packages add, with their topics."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from eaflow.plugins import Found, discover


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
        "error": found.error,
    }


def plugins(
    json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List plugins (entry point groups eaflow.processors and eaflow.sinks); run one with
    `eaflow worker NAME`."""
    found = discover()
    if json:
        typer.echo(orjson.dumps([as_dict(f) for f in found]).decode())
        return
    console = Console()
    if not found:
        console.print("no plugins installed (see docs/plugins.md)")
        return
    table = Table("worker", "kind", "reads", "writes", "package", "description")
    for item in found:
        plugin = item.plugin
        if plugin is None:
            table.add_row(item.name, item.kind, "", "", item.package, f"[red]{item.error}[/red]")
        else:
            table.add_row(
                item.name,
                item.kind,
                ", ".join(plugin.reads),
                ", ".join(plugin.writes),
                item.package,
                plugin.description,
            )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command()(plugins)
