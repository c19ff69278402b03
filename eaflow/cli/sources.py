"""`eaflow sources`: who may send alerts — list, add, rotate a secret, remove."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from eaflow.cli.options import PrefixOption, RedisOption, require_redis, settings_from
from eaflow.gateway.sources import Source, SourceStore, new_secret
from model import StopsUnit, refusal_of
from streams.clients import async_client

sources = typer.Typer(
    help="Alert sources of the webhook gateway (secrets, bindings, limits).", no_args_is_help=True
)
T = TypeVar("T")
Names = Annotated[str, typer.Option(help="Instances it may trade, comma-separated, or *.")]


def _store_call(redis: str | None, prefix: str, call: Callable[[SourceStore], Awaitable[T]]) -> T:
    settings = settings_from(redis, prefix)
    url = require_redis(settings)

    async def run() -> T:
        client = async_client(url)
        try:
            return await call(SourceStore(client, settings.prefix))
        finally:
            await client.aclose()

    return asyncio.run(run())


@sources.command("list")
def list_sources(
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    show_secrets: Annotated[bool, typer.Option(help="Print the secrets too.")] = False,
) -> None:
    """Every source with its binding, allowlist and limits."""
    found = _store_call(redis, prefix, lambda store: store.all())
    table = Table(
        "source",
        "instances",
        "allow",
        "rate/min",
        "sl/tp",
        "risk=",
        "enabled",
    )
    for source in found.values():
        table.add_row(
            source.name,
            ",".join(source.instances),
            ",".join(source.allow) or "-",
            str(source.rate_limit),
            source.stops_unit.value,
            source.volume_type,
            "yes" if source.enabled else "no",
        )
    console = Console()
    console.print(table)
    for source in found.values() if show_secrets else ():
        console.print(
            f"source {source.name}: secret {source.secret}", highlight=False, soft_wrap=True
        )


@sources.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The source's name (first field of a command line).")],
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    instances: Names = "*",
    allow: Annotated[str, typer.Option(help="IPs/CIDRs/presets, comma-separated.")] = "",
    rate_limit: Annotated[int, typer.Option(help="Requests per minute.")] = 120,
    stops_unit: Annotated[StopsUnit, typer.Option(help="Unit of sl=/tp= in commands.")] = (
        StopsUnit.PIPS
    ),
    entry_unit: Annotated[
        StopsUnit, typer.Option(help="Unit of a pending order's price= in commands.")
    ] = StopsUnit.PRICE,
    volume_type: Annotated[
        str, typer.Option(help="risk= means lots, risk_percent or risk_money.")
    ] = "lots",
    require_signature: Annotated[bool, typer.Option(help="Require the HMAC header.")] = False,
    admin: Annotated[bool, typer.Option(help="Its secret also opens the /config API.")] = False,
    secret: Annotated[str | None, typer.Option(help="Secret to use (default: generated).")] = None,
) -> None:
    """Add or replace a source and print its secret."""
    try:
        source = Source(
            name=name,
            secret=secret or new_secret(),
            instances=tuple(i.strip() for i in instances.split(",") if i.strip()),
            allow=tuple(a.strip() for a in allow.split(",") if a.strip()),
            rate_limit=rate_limit,
            stops_unit=stops_unit,
            entry_unit=entry_unit,
            volume_type=volume_type,
            require_signature=require_signature,
            admin=admin,
        )
    except ValidationError as error:
        field, rule = refusal_of(error)
        raise typer.BadParameter(f"{field}: {rule}") from error
    _store_call(redis, prefix, lambda store: store.put(source))
    Console().print(
        f"source {source.name}: secret {source.secret}", highlight=False, soft_wrap=True
    )


@sources.command("rotate")
def rotate(name: str, redis: RedisOption = None, prefix: PrefixOption = "ea:") -> None:
    """Give a source a new secret (the old one stops working at once)."""

    async def call(store: SourceStore) -> Source | None:
        source = await store.get(name)
        if source is not None:
            source = source.model_copy(update={"secret": new_secret()})
            await store.put(source)
        return source

    source = _store_call(redis, prefix, call)
    if source is None:
        raise typer.BadParameter(f"no source named '{name}'", param_hint="NAME")
    Console().print(
        f"source {source.name}: secret {source.secret}", highlight=False, soft_wrap=True
    )


@sources.command("remove")
def remove(name: str, redis: RedisOption = None, prefix: PrefixOption = "ea:") -> None:
    """Remove a source: its alerts are refused from now on."""
    if not _store_call(redis, prefix, lambda store: store.remove(name)):
        raise typer.BadParameter(f"no source named '{name}'", param_hint="NAME")


def register(app: typer.Typer) -> None:
    app.add_typer(sources, name="sources")
