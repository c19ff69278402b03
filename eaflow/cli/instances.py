"""`eaflow instances list|start|stop|restart`: the trading accounts and their managers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, TypeVar

import orjson
import typer
from redis.exceptions import RedisError
from rich.console import Console
from rich.table import Table

from eaflow.cli.options import PrefixOption, RedisOption, require_redis, settings_from
from processors.manager import commands
from processors.manager.commands import InstanceRow, UnknownInstance
from processors.registry import InstanceRegistry
from streams.clients import async_client

T = TypeVar("T")

instances_app = typer.Typer(
    name="instances",
    help="Trading instances: status, stop, start, restart.",
    no_args_is_help=True,
)
Names = Annotated[list[str], typer.Argument(help="Instance ids.")]
WaitOption = Annotated[
    float, typer.Option(help="Seconds to wait until every instance reports the change (0: don't).")
]


def _run(redis: str | None, prefix: str, work: Callable[[InstanceRegistry], Awaitable[T]]) -> T:
    settings = settings_from(redis, prefix)
    url = require_redis(settings)

    async def main() -> T:
        client = async_client(url)
        try:
            return await work(InstanceRegistry(client, settings.prefix))
        finally:
            await client.aclose()

    try:
        return asyncio.run(main())
    except UnknownInstance as unknown:
        typer.echo(f"refused: {unknown}", err=True)
        raise typer.Exit(2) from unknown
    except (RedisError, OSError) as error:
        typer.echo(f"redis: {error}", err=True)
        raise typer.Exit(1) from error


def instances_table(found: Sequence[InstanceRow]) -> Table:
    """The instances as a table (also shown by `eaflow status`); errors go below it."""
    table = Table(title="instances")
    for name in ("instance", "status", "seen", "config", "equity", "restarts", "pid"):
        table.add_column(name, no_wrap=True)
    for row in found:
        report = row.report
        applied = "-" if row.applied is None else str(row.applied)
        status = row.status if row.wanted == "running" else f"{row.status} (stop asked)"
        table.add_row(
            row.instance,
            status,
            "-" if row.age is None else f"{row.age:.0f}s ago",
            f"{applied}/{row.published}",
            "-" if report is None or report.equity is None else f"{report.equity:,.2f}",
            "-" if report is None else str(report.restarts),
            "-" if report is None else str(report.pid),
        )
    errors = [f"{r.instance}: {r.report.error}" for r in found if r.report and r.report.error]
    if errors:
        table.caption = "\n".join(errors)
    return table


@instances_app.command("list")
def list_(
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Status, last report, configuration version applied/published, equity, restarts."""
    found = _run(redis, prefix, commands.rows)
    if json:
        typer.echo(orjson.dumps([r.as_json() for r in found]).decode())
        return
    Console().print(instances_table(found))


Done = Callable[[InstanceRow, InstanceRow], bool]
"""Whether an instance's row (now, before the request) shows the change was made."""


def _change(
    redis: str | None,
    prefix: str,
    names: list[str],
    wait: float,
    action: Callable[[InstanceRegistry, Sequence[str]], Awaitable[None]],
    done: Done,
) -> None:
    async def work(registry: InstanceRegistry) -> list[str]:
        before = {r.instance: r for r in await commands.rows(registry)}
        await action(registry, names)
        deadline = time.monotonic() + wait
        late = list(names)
        while wait:
            now = {r.instance: r for r in await commands.rows(registry)}
            late = [n for n in names if not done(now[n], before[n])]
            if not late or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        return late if wait else []

    late = _run(redis, prefix, work)
    if late:
        typer.echo(f"not confirmed within {wait:g} s: {', '.join(late)}", err=True)
        raise typer.Exit(1)
    typer.echo(", ".join(names) + (": done" if wait else ": asked"))


def _restarted(now: InstanceRow, before: InstanceRow) -> bool:
    restarts = 0 if before.report is None else before.report.restarts
    return now.status == "running" and now.report is not None and now.report.restarts > restarts


@instances_app.command("stop")
def stop(
    names: Names, redis: RedisOption = None, prefix: PrefixOption = "ea:", wait: WaitOption = 0
) -> None:
    """Stop trading: orders for them wait (and expire) until they are started again."""
    _change(redis, prefix, names, wait, commands.stop, lambda now, _: now.status == "stopped")


@instances_app.command("start")
def start(
    names: Names, redis: RedisOption = None, prefix: PrefixOption = "ea:", wait: WaitOption = 0
) -> None:
    """Start stopped instances again."""
    _change(redis, prefix, names, wait, commands.start, lambda now, _: now.status == "running")


@instances_app.command("restart")
def restart(
    names: Names, redis: RedisOption = None, prefix: PrefixOption = "ea:", wait: WaitOption = 0
) -> None:
    """A new broker session for each instance."""
    _change(redis, prefix, names, wait, commands.restart, _restarted)


def register(app: typer.Typer) -> None:
    app.add_typer(instances_app)
