"""`eaflow dlq list|show|retry|purge`: the dead letters of every stream, for operators."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import orjson
import typer
from redis.exceptions import RedisError
from rich.console import Console
from rich.table import Table

from eaflow.cli.options import PrefixOption, RedisOption, require_redis, settings_from
from eaflow.dlq import DeadLetter, DeadLetters, UnknownDeadLetter
from streams.clients import async_client

T = TypeVar("T")

dlq_app = typer.Typer(
    name="dlq",
    help="Dead letters: entries that failed too often, with their error and deliveries.",
    no_args_is_help=True,
)
Stream = Annotated[str, typer.Argument(help="The stream whose DLQ to use: rtss, orders:demo-1.")]
Ids = Annotated[list[str] | None, typer.Argument(help="Dead letter ids (default: all).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
DATA_SHOWN = 200


def _run(redis: str | None, prefix: str, work: Callable[[DeadLetters], Awaitable[T]]) -> T:
    settings = settings_from(redis, prefix)
    url = require_redis(settings)

    async def main() -> T:
        client = async_client(url)
        try:
            return await work(DeadLetters(client, settings.prefix))
        finally:
            await client.aclose()

    try:
        return asyncio.run(main())
    except UnknownDeadLetter as unknown:
        typer.echo(f"refused: {unknown}", err=True)
        raise typer.Exit(2) from unknown
    except (RedisError, OSError) as error:
        typer.echo(f"redis: {error}", err=True)
        raise typer.Exit(1) from error


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _letter_json(letter: DeadLetter) -> dict[str, object]:
    shown = dataclasses.asdict(letter)
    shown["data"] = letter.data.decode(errors="replace")
    return shown


@dlq_app.command("list")
def list_queues(
    redis: RedisOption = None, prefix: PrefixOption = "ea:", json: JsonOption = False
) -> None:
    """Every DLQ that holds dead letters, with how many and since when."""
    queues = _run(redis, prefix, lambda letters: letters.queues())
    if json:
        typer.echo(orjson.dumps([dataclasses.asdict(q) for q in queues]).decode())
        return
    if not queues:
        typer.echo("no dead letters")
        return
    table = Table("stream", "dead letters", "oldest (UTC)", "newest (UTC)", title="dead letters")
    for queue in queues:
        table.add_row(queue.name, str(queue.count), _when(queue.oldest_ms), _when(queue.newest_ms))
    Console().print(table)


@dlq_app.command()
def show(
    stream: Stream,
    ids: Ids = None,
    count: Annotated[int, typer.Option(min=1, help="Show at most this many.")] = 100,
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    json: JsonOption = False,
) -> None:
    """The dead letters of STREAM: error, deliveries, original id and data."""
    found = _run(redis, prefix, lambda letters: letters.entries(stream, ids or (), count))
    if json:
        typer.echo(orjson.dumps([_letter_json(letter) for letter in found]).decode())
        return
    table = Table("id", "entry", "group", "deliveries", "dead at (UTC)", "error", "data")
    for letter in found:
        data = letter.data.decode(errors="replace")
        table.add_row(
            letter.id,
            letter.entry_id,
            letter.group,
            str(letter.deliveries),
            _when(letter.dead_at_ms),
            letter.error,
            data if len(data) <= DATA_SHOWN else data[:DATA_SHOWN] + "…",
        )
    Console(width=200).print(table)


@dlq_app.command()
def retry(
    stream: Stream,
    ids: Ids = None,
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
) -> None:
    """Put dead letters back on their stream (after fixing what made them fail)."""
    done = _run(redis, prefix, lambda letters: letters.retry(stream, ids or ()))
    failed = [r for r in done if r.error is not None]
    for item in done:
        if item.error is None:
            typer.echo(f"{item.id} → {item.stream} {item.new_id}")
        else:
            typer.echo(f"{item.id} not retried: {item.error}", err=True)
    typer.echo(f"retried {len(done) - len(failed)} of {len(done)}")
    if failed:
        raise typer.Exit(1)


@dlq_app.command()
def purge(
    stream: Stream,
    ids: Ids = None,
    yes: Annotated[bool, typer.Option("--yes", help="Really delete them.")] = False,
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
) -> None:
    """Delete dead letters for good (those of IDS, else all of STREAM's)."""
    if not yes:
        typer.echo("refused: --yes: purging deletes dead letters for good; add --yes", err=True)
        raise typer.Exit(2)
    deleted = _run(redis, prefix, lambda letters: letters.purge(stream, ids or ()))
    typer.echo(f"purged {deleted}")


def register(app: typer.Typer) -> None:
    app.add_typer(dlq_app)
