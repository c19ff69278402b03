"""`eaflow instance add|check`: register a trading account, and try its terminal from here."""

from __future__ import annotations

import asyncio
from typing import Annotated

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from brokers.factory import broker_for
from brokers.mt5.config import TerminalConfig
from brokers.types import BrokerUnavailable
from eaflow.cli.options import (
    Mt5Option,
    PrefixOption,
    RedisOption,
    require_redis,
    settings_from,
    with_mt5,
)
from model import InstanceSpec, refusal_of
from model.errors import MissingExtra
from processors.registry import InstanceRegistry
from processors.router.copying import symbol_names
from streams.clients import async_client

instance_app = typer.Typer(
    name="instance", help="Trading accounts: register one, try its terminal.", no_args_is_help=True
)


@instance_app.command()
def add(
    instance_id: Annotated[str, typer.Argument(help="Its name in signals and streams.")],
    broker: Annotated[
        str, typer.Option(help="sim://, mt5:// (local terminal) or mt5://host:port (mt5linux).")
    ],
    login: Annotated[int, typer.Option(help="The trading account number.")],
    magic: Annotated[
        int | None, typer.Option(help="Tags our orders on the account (default: login % 1e6).")
    ] = None,
    group: Annotated[list[str] | None, typer.Option(help="A group signals can target.")] = None,
    replace: Annotated[bool, typer.Option(help="Overwrite an instance of that name.")] = False,
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
) -> None:
    """Register an instance in Redis; the configuration store adopts it on its next use."""
    try:
        spec = InstanceSpec(
            instance_id=instance_id,
            broker=broker,
            login=login,
            magic=login % 1_000_000 if magic is None else magic,
            groups=tuple(group or ()),
        )
        if broker.startswith("mt5:"):
            TerminalConfig.from_url(broker, login, env=None)
    except ValidationError as error:
        field, rule = refusal_of(error)
        raise typer.BadParameter(rule, param_hint=f"--{field.replace('_', '-')}") from error
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--broker") from error
    settings = settings_from(redis, prefix)

    async def main() -> None:
        client = async_client(require_redis(settings))
        try:
            registry = InstanceRegistry(client, settings.prefix)
            if not replace and await registry.get(instance_id) is not None:
                raise typer.BadParameter(
                    f"{instance_id} exists (--replace overwrites it)", param_hint="INSTANCE_ID"
                )
            await registry.put(spec)
        finally:
            await client.aclose()

    asyncio.run(main())
    typer.echo(orjson.dumps(spec.model_dump(mode="json", exclude={"config"})).decode())


@instance_app.command()
def check(
    instance_id: Annotated[str, typer.Argument(help="A registered instance.")],
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    mt5: Mt5Option = None,
) -> None:
    """Connect to the instance's terminal once and show its account.

    Try it first after setting up a terminal: exit code 1 with MT5's last error if it fails.
    """
    settings = with_mt5(settings_from(redis, prefix), mt5)
    url = require_redis(settings)

    async def main() -> Table:
        client = async_client(url)
        try:
            spec = await InstanceRegistry(client, settings.prefix).get(instance_id)
        finally:
            await client.aclose()
        if spec is None:
            raise typer.BadParameter(f"unknown instance {instance_id}", param_hint="INSTANCE_ID")
        session = broker_for(
            spec.broker, instance_id, spec.login, url, settings.prefix, settings.mt5
        )
        try:
            await session.connect()
            account = await session.account_info()
            symbols = await session.symbols()
        finally:
            await session.close()
        assert account is not None
        table = Table(title=f"{instance_id}: connected", show_header=False)
        for name, value in (
            ("login", account.login),
            ("server", account.server),
            ("name", account.name),
            ("balance", f"{account.balance:.2f} {account.currency}"),
            ("leverage", f"1:{account.leverage}"),
            ("algo trading allowed", account.trade_allowed and account.trade_expert),
            ("hedging", account.margin_mode == 2),
            ("symbols", len(symbols)),
        ):
            table.add_row(name, str(value))
        known = {info.name: info for info in symbols}
        for symbol, name in symbol_names(spec.config, known).items():
            table.add_row(f"symbol {symbol}", name)
        return table

    try:
        Console().print(asyncio.run(main()))
    except (BrokerUnavailable, MissingExtra, ValueError) as error:
        typer.echo(f"{instance_id}: {error}", err=True)
        raise typer.Exit(1) from error


def register(app: typer.Typer) -> None:
    app.add_typer(instance_app)
