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
from streams.clients import async_client


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
    client = async_client(url)
    last: bytes = b"0-0"
    if wait:
        with contextlib.suppress(aioredis.ResponseError):  # no results yet: from the start
            last = (await client.xinfo_stream(f"{prefix}rtrs"))["last-generated-id"]
    pipe = client.pipeline(transaction=False)
    for item in signals:
        pipe.xadd(f"{prefix}rtss", {"d": orjson.dumps(item)})
    await pipe.execute()
    ids = {item.get("signal_id") for item in signals}
    results: list[Result] = []
    deadline = time.monotonic() + wait
    while wait and time.monotonic() < deadline:
        entries: Any = await client.xread({f"{prefix}rtrs": last}, block=200, count=1000)
        for _, batch in entries:
            for entry_id, fields in batch:
                last = entry_id
                result = Result.model_validate_json(fields[b"d"])
                if result.signal_id in ids:
                    results.append(result)
        if results and not entries:
            break
    await client.aclose()
    return results


def register(app: typer.Typer) -> None:
    app.command()(send)
