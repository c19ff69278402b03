"""`eaflow send`: publish signals given as JSON (argument, @file or - for stdin)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import orjson
import redis.asyncio as aioredis
import typer
from pydantic import ValidationError
from redis.exceptions import RedisError
from rich.console import Console

from eaflow.cli.options import PrefixOption, RedisOption, require_redis, settings_from
from model import Result, Signal, refusal_of
from model.topics import Topics
from streams import App, AppSettings
from streams.topic import FIELD


def read_body(source: str) -> Any:
    """JSON from the argument itself, `@path`, or `-` (stdin)."""
    if source == "-":
        text = sys.stdin.read()
    elif source.startswith("@"):
        try:
            text = Path(source[1:]).read_text()
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            raise typer.BadParameter(
                f"cannot read {source[1:]!r}: {reason}", param_hint="SIGNAL"
            ) from error
    else:
        text = source
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise typer.BadParameter(f"not JSON: {error}", param_hint="SIGNAL") from error


def to_signals(body: Any, validate: bool) -> list[dict[str, Any]]:
    items = body if isinstance(body, list) else [body]
    if not validate:
        return [item if isinstance(item, dict) else {"value": item} for item in items]
    signals = []
    for n, item in enumerate(items):
        try:
            signal = Signal.model_validate(item)
        except ValidationError as error:
            field, rule = refusal_of(error)
            where = f"signal {n}: " if len(items) > 1 else ""
            raise typer.BadParameter(f"{where}{field}: {rule}", param_hint="SIGNAL") from error
        signals.append(signal.model_dump(mode="json", exclude_none=True))
    return signals


def send(
    signal: Annotated[str, typer.Argument(help="JSON object or array, @file, or - for stdin.")],
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    validate: Annotated[bool, typer.Option(help="Refuse invalid signals here.")] = True,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the results (0: don't).")] = 0,
) -> None:
    """Publish signals to `rtss` and print their ids (and results with --wait)."""
    settings = settings_from(redis, prefix)
    url = require_redis(settings)
    signals = to_signals(read_body(signal), validate)
    try:
        results = asyncio.run(_send(url, settings.prefix, signals, wait))
    except (RedisError, OSError) as error:  # nothing or not all sent: say so, exit 1
        typer.echo(f"redis: {error}", err=True)
        raise typer.Exit(1) from error
    console = Console()
    for item in signals:
        console.print_json(orjson.dumps({"signal_id": item.get("signal_id")}).decode())
    for result in results:
        console.print_json(result.model_dump_json(exclude_none=True))
    if wait and not results:
        raise typer.Exit(code=1)


async def _send(url: str, prefix: str, signals: list[dict[str, Any]], wait: float) -> list[Result]:
    app = App(AppSettings(redis_url=url, prefix=prefix, name="send"))
    topics = Topics(app)
    try:
        return await _publish(app.redis, topics, signals, wait)
    finally:
        await app.redis.aclose()


async def _publish(
    client: aioredis.Redis, topics: Topics, signals: list[dict[str, Any]], wait: float
) -> list[Result]:
    """Send through `rtss`'s codec; with `wait`, read `rtrs` for their results until then."""
    last: bytes = b"0-0"
    if wait:
        with contextlib.suppress(aioredis.ResponseError):  # no results yet: from the start
            last = (await client.xinfo_stream(topics.rtrs.key))["last-generated-id"]
    await topics.rtss.send_many(signals)
    ids = {item.get("signal_id") for item in signals}
    results: list[Result] = []
    deadline = time.monotonic() + wait
    while wait and time.monotonic() < deadline:
        entries: Any = await client.xread({topics.rtrs.key: last}, block=200, count=1000)
        for _, batch in entries:
            for entry_id, fields in batch:
                last = entry_id
                result = topics.rtrs.decode(fields[FIELD])
                if result.signal_id in ids:
                    results.append(result)
        if results and not entries:
            break
    return results


def register(app: typer.Typer) -> None:
    app.command()(send)
