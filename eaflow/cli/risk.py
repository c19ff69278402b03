"""`eaflow risk show|lift`: the loss-limit records the router keeps, and lifting a breach."""

from __future__ import annotations

import asyncio
import getpass
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from eaflow.cli.options import PrefixOption, RedisOption, require_redis, settings_from
from model import InstanceReport, InstanceStatus, ReportKind
from model.keys import Keys
from model.topics import STATE_MAXLEN
from streams.clients import async_client

risk_app = typer.Typer(
    name="risk",
    help="Loss limits and trades per day (docs/risk.md): see them, lift a breach.",
    no_args_is_help=True,
)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@risk_app.command()
def show(
    instance_id: Annotated[str, typer.Argument(help="An instance with `risk` rules.")],
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
) -> None:
    """The starting equity of its day and week, the opens counted today, a breach."""
    settings = settings_from(redis, prefix)

    async def main() -> dict[str, str]:
        client = async_client(require_redis(settings))
        try:
            found: Any = await client.hgetall(Keys(settings.prefix).risk(instance_id))
        finally:
            await client.aclose()
        return {_text(k): _text(v) for k, v in found.items()}

    fields = asyncio.run(main())
    if not fields:
        typer.echo(f"{instance_id}: no risk record (no rules, or no state snapshot yet)")
        return
    table = Table(title=f"{instance_id}: risk", show_header=False)
    for name in sorted(fields):
        table.add_row(name, fields[name])
    Console().print(table)


@risk_app.command()
def lift(
    instance_id: Annotated[str, typer.Argument(help="An instance held by a loss limit.")],
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
) -> None:
    """Lift a breach before its period ends: the record is deleted, so the day and week
    count again from the equity of the router's next refresh (500 ms); `ris` gets a
    `risk_cleared` report."""
    settings = settings_from(redis, prefix)
    keys = Keys(settings.prefix)
    report = InstanceReport(
        instance=instance_id,
        kind=ReportKind.RISK_CLEARED,
        status=InstanceStatus.RUNNING,
        error=f"lifted by an operator ({getpass.getuser()})",
    )

    async def main() -> int:
        client = async_client(require_redis(settings))
        try:
            deleted = int(await client.delete(keys.risk(instance_id)))
            if deleted:
                await client.xadd(keys.ris, {"d": report.model_dump_json()}, maxlen=STATE_MAXLEN)
            return deleted
        finally:
            await client.aclose()

    if not asyncio.run(main()):
        typer.echo(f"{instance_id}: no risk record to lift")
        raise typer.Exit(1)
    typer.echo(f"{instance_id}: lifted; its day and week start again from its equity now")


def register(app: typer.Typer) -> None:
    app.add_typer(risk_app)
