"""`eaflow config get|set|unset|list|history|backup|restore|publish`: the configuration."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
from redis.exceptions import RedisError
from rich.console import Console
from rich.table import Table

from eaflow.cli.options import DataDirOption, PrefixOption, RedisOption, settings_from
from eaflow.cli.running import data_path
from eaflow.config import GLOBAL, ConfigRefused, ConfigService, ConfigStore
from eaflow.config.scopes import parse_value, scope_name
from eaflow.config.store import VersionConflict
from eaflow.settings import Settings
from processors.registry import InstanceRegistry
from sinks.database import database_path
from streams.clients import async_client

T = TypeVar("T")

config_app = typer.Typer(
    name="config",
    help="Trading configuration: DuckDB is the truth, Redis the mirror.",
    no_args_is_help=True,
)
InstanceOption = Annotated[
    str | None, typer.Option("--instance", "-i", help="An instance's scope (default: global).")
]
DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        envvar="EAFLOW_CONFIG_DB",
        help="DuckDB file (default: eaflow.duckdb in the data directory, --data-dir).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _run(
    redis: str | None,
    prefix: str,
    db: Path | None,
    work: Callable[[ConfigService], Awaitable[T]],
    data_dir: Path | None = None,
) -> T:
    """Run `work` with a service on the database and, when given, Redis; refusals exit 2."""
    settings = settings_from(redis, prefix)
    store = ConfigStore(db_path(db, data_dir or settings.data_dir))

    async def main() -> T:
        client = async_client(settings.redis_url) if settings.redis_url else None
        registry = InstanceRegistry(client, settings.prefix) if client is not None else None
        try:
            return await work(ConfigService(store, registry))
        finally:
            if client is not None:
                await client.aclose()

    try:
        return asyncio.run(main())
    except (ConfigRefused, VersionConflict) as refused:
        typer.echo(f"refused: {refused}", err=True)
        raise typer.Exit(2) from refused
    except (RedisError, OSError) as error:
        typer.echo(f"redis: {error}", err=True)
        raise typer.Exit(1) from error


def db_path(db: Path | None, data_dir: Path | None = None) -> Path:
    """--db, else eaflow.duckdb in --data-dir (EAFLOW_DATA_DIR, default ./var), absolute."""
    return data_path(db or database_path(data_dir or Settings.from_env().data_dir))


def _echo_json(value: Any) -> None:
    typer.echo(orjson.dumps(value, default=str, option=orjson.OPT_INDENT_2).decode())


@config_app.command("get")
def get(
    field: Annotated[
        str | None, typer.Argument(help="One field path, e.g. trailing_stop.distance.")
    ] = None,
    instance: InstanceOption = None,
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    db: DbOption = None,
    data_dir: DataDirOption = None,
    json: JsonOption = False,
) -> None:
    """Show a scope: what it sets, and the configuration in force with where each value
    comes from (instance, global or default)."""
    scope = instance or GLOBAL

    async def work(service: ConfigService) -> tuple[Any, ...]:
        view = await service.get(scope)
        defaults = (await service.snapshot()).scope(GLOBAL)
        return view, defaults

    view, defaults = _run(redis, prefix, db, work, data_dir)
    config = view.config.model_dump(mode="json")
    if field is not None:
        node: Any = config
        for part in field.split("."):
            if not isinstance(node, dict) or part not in node:
                typer.echo(f"refused: {field}: is not a configuration field", err=True)
                raise typer.Exit(2)
            node = node[part]
        _echo_json(node) if json else typer.echo(orjson.dumps(node).decode())
        return
    if json:
        _echo_json(
            {
                "scope": scope_name(scope),
                "version": view.version,
                "document": view.document,
                "config": config,
                "applied": view.applied.get(scope),
            }
        )
        return
    table = Table("field", "value", "from", title=f"{scope_name(scope)} @ version {view.version}")
    for name, value in config.items():
        origin = "default"
        if name in defaults and (scope == GLOBAL or name != "trading_state"):
            origin = "global"
        if scope != GLOBAL and name in view.document:
            origin = "instance"
        table.add_row(name, orjson.dumps(value).decode(), origin)
    Console().print(table)


@config_app.command("set")
def set_(
    assignments: Annotated[
        list[str],
        typer.Argument(help="FIELD=VALUE, e.g. max_open_orders=5 symbols.XAUUSD.lot_size=0.1."),
    ],
    instance: InstanceOption = None,
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    db: DbOption = None,
    data_dir: DataDirOption = None,
    note: Annotated[str, typer.Option(help="Why, for the history.")] = "",
) -> None:
    """Change fields in one new version, validated first; running instances apply it
    within their next pull (500 ms)."""
    values: dict[str, Any] = {}
    for item in assignments:
        path, sep, text = item.partition("=")
        if not sep or not path:
            typer.echo(f"refused: {item}: must be FIELD=VALUE", err=True)
            raise typer.Exit(2)
        try:
            values[path.strip()] = parse_value(path.strip(), text)
        except ConfigRefused as refused:
            typer.echo(f"refused: {refused}", err=True)
            raise typer.Exit(2) from refused
    db = db_path(db, data_dir)
    applied = _run(redis, prefix, db, lambda s: s.set(instance or GLOBAL, values, _actor(), note))
    _report(applied.version, applied.scope, applied.published, applied.error, db)


@config_app.command("unset")
def unset(
    fields: Annotated[list[str], typer.Argument(help="Field paths to inherit again.")],
    instance: InstanceOption = None,
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    db: DbOption = None,
    data_dir: DataDirOption = None,
    note: Annotated[str, typer.Option(help="Why, for the history.")] = "",
) -> None:
    """Remove fields from a scope so they come from the global scope or the default."""
    db = db_path(db, data_dir)
    applied = _run(redis, prefix, db, lambda s: s.unset(instance or GLOBAL, fields, _actor(), note))
    _report(applied.version, applied.scope, applied.published, applied.error, db)


def _report(version: int, scope: str, published: bool, error: str | None, db: Path) -> None:
    where = "published to Redis" if published else f"stored, not published ({error})"
    typer.echo(f"version {version}: {scope_name(scope)} {where}; history in {db}")


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@config_app.command("list")
def list_(
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    db: DbOption = None,
    data_dir: DataDirOption = None,
    json: JsonOption = False,
) -> None:
    """Every instance: broker, groups, its own overrides, the version it applies."""

    async def work(service: ConfigService) -> tuple[Any, ...]:
        specs = await service.instances()
        return specs, await service.applied(), await service.snapshot()

    specs, applied, snapshot = _run(redis, prefix, db, work, data_dir)
    rows = [
        {
            "instance": i,
            "broker": s.broker,
            "login": s.login,
            "groups": list(s.groups),
            "trading_state": s.config.trading_state.value,
            "overrides": snapshot.scope(i),
            "version": snapshot.version,
            "applied": applied.get(i),
        }
        for i, s in sorted(specs.items())
    ]
    if json:
        _echo_json(
            {"version": snapshot.version, "global": snapshot.scope(GLOBAL), "instances": rows}
        )
        return
    table = Table(
        "instance",
        "broker",
        "login",
        "groups",
        "state",
        "overrides",
        "applied",
        title=f"version {snapshot.version}, global {orjson.dumps(snapshot.scope(GLOBAL)).decode()}",
    )
    for row in rows:
        table.add_row(
            row["instance"],
            row["broker"],
            str(row["login"]),
            ",".join(row["groups"]),
            row["trading_state"],
            orjson.dumps(row["overrides"]).decode(),
            "-" if row["applied"] is None else str(row["applied"]),
        )
    Console().print(table)


@config_app.command("history")
def history(
    instance: InstanceOption = None,
    all_scopes: Annotated[bool, typer.Option("--all", help="Every scope, not only one.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="How many changes, newest first.")] = 20,
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    db: DbOption = None,
    data_dir: DataDirOption = None,
    json: JsonOption = False,
) -> None:
    """Who changed what, when, from what to what."""
    scope = None if all_scopes else (instance or GLOBAL)
    changes = _run(redis, prefix, db, lambda s: s.history(scope, limit), data_dir)
    if json:
        _echo_json([c.__dict__ for c in changes])
        return
    table = Table("version", "at (UTC)", "actor", "scope", "change", "note")
    for c in changes:
        table.add_row(
            str(c.version),
            c.at.isoformat(timespec="seconds"),
            c.actor,
            scope_name(c.scope),
            orjson.dumps(c.change).decode(),
            c.note,
        )
    Console().print(table)


@config_app.command("backup")
def backup(
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Copy the configuration as Redis holds it (with run-time kill switches) into DuckDB."""
    backup_id = _run(redis, prefix, db, lambda s: s.backup(), data_dir)
    typer.echo(f"backup {backup_id} written")


@config_app.command("restore")
def restore(
    backup_id: Annotated[
        int | None, typer.Option("--backup", help="Backup id (default: newest).")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Overwrite a Redis that has a configuration.")
    ] = False,
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Write a backup into an empty Redis (or the current version when there is none)."""
    restored, entries = _run(redis, prefix, db, lambda s: s.restore(backup_id, force), data_dir)
    source = f"backup {restored}" if restored else "the current version"
    typer.echo(f"restored {source}: {entries} entries")


@config_app.command("publish")
def publish(
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Mirror the current version into Redis again (kill switches set at run time stay)."""
    db = db_path(db, data_dir)
    applied = _run(redis, prefix, db, lambda s: s.publish())
    _report(applied.version, applied.scope, applied.published, applied.error, db)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app)
