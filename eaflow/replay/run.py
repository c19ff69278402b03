"""The two replays: a dry run compared with the recording, and a copy into a debug stream."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis

from eaflow.replay.diff import DEFAULT_TOLERANCE, Row, compare
from eaflow.replay.dryrun import DryRun, Replayed, kind_of
from eaflow.replay.recorded import from_duckdb, from_stream
from eaflow.replay.sandbox import Sandbox
from eaflow.replay.source import Entry, as_recorded, copy_range, debug_stream, read_range
from model import Result
from processors.registry import InstanceRegistry
from sinks.database import database_path
from streams.clients import async_client

Progress = Callable[[int, int], None]
"""Called with (entries done, entries in the range) as a replay advances."""


@dataclass
class Report:
    """What a dry run found: one row per result, and the entries it could not replay."""

    stream: str
    start: str
    end: str
    entries: int
    instances: list[str]
    rows: list[Row] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (entry id, why)
    recorded_in: dict[str, int] = field(default_factory=dict)  # where recordings came from
    sandbox: str = ""
    tolerance: Decimal = DEFAULT_TOLERANCE  # percent of a price ignored


async def _entries(
    client: aioredis.Redis, key: str, stream: str, start: str, end: str, limit: int
) -> list[Entry]:
    kind: Any = await client.type(key)
    if kind not in (b"stream", "stream"):
        raise ValueError(f"STREAM: {stream!r} is not a stream (no key {key!r} of type stream)")
    return await read_range(client, key, start, end, limit)


def _ids(entries: list[Entry], by: str) -> set[str]:
    """The signal or order ids the recorded entries carry (ids a router would generate for
    a signal without one cannot be matched: its results show as new and missing)."""
    ids: set[str] = set()
    for _, fields in entries:
        try:
            value = orjson.loads(fields.get(b"d", b"null"))
        except orjson.JSONDecodeError:
            continue
        found = value.get(by) if isinstance(value, dict) else None
        if isinstance(found, str):
            ids.add(found)
    return ids


async def dry_run(
    redis_url: str,
    prefix: str,
    stream: str,
    start: str,
    end: str,
    *,
    limit: int,
    data_dir: Path,
    progress: Progress | None = None,
    keep: bool = False,
    tolerance: Decimal = DEFAULT_TOLERANCE,
    announce: Callable[[int], None] | None = None,
) -> Report:
    """Re-run the range in a sandbox and compare its results with the recorded ones: those
    of the range's signals, or of its orders on the stream's instance (order ids repeat
    across instances), prices within `tolerance` percent. A `debug:` stream replays as the
    stream it was copied from. `announce` is told the number of entries before they run."""
    if not stream.startswith("debug:"):
        kind_of(stream)  # refused before anything is read
    client = async_client(redis_url)
    sandbox = Sandbox(redis_url, prefix)
    try:
        read = await _entries(client, f"{prefix}{stream}", stream, start, end, limit)
        origin, entries = as_recorded(stream, read)
        kind = kind_of(origin)
        if announce is not None:
            announce(len(entries))
        run = DryRun(sandbox, origin)
        instances = await run.start(InstanceRegistry(client, prefix))
        replayed: list[Replayed] = []
        for entry in entries:
            replayed.append(await run.replay(entry))
            if progress is not None:
                progress(len(replayed), len(entries))
        by = "signal_id" if kind == "signals" else "order_id"
        ids = _ids(entries, by)
        since = entries[0][0] if entries and not origin.startswith("dlq:") else "-"
        recorded = await from_stream(client, f"{prefix}rtrs", since, ids, by)
        missing = ids - {getattr(r, by) for r in recorded}
        stored = from_duckdb(database_path(data_dir), missing, by)
        if kind == "orders":
            instance = origin.removeprefix("dlq:").removeprefix("orders:")
            recorded = [r for r in recorded if r.instance == instance]
            stored = [r for r in stored if r.instance == instance]
        new = [result for item in replayed for result in item.results]
        report = Report(
            stream, start, end, len(entries), instances, sandbox=sandbox.prefix, tolerance=tolerance
        )
        report.rows = compare([*recorded, *stored], new, tolerance)
        report.errors = [(item.entry_id, item.error) for item in replayed if item.error]
        report.recorded_in = {"rtrs": len(recorded), "duckdb": len(stored)}
        return report
    finally:
        if not keep:
            await sandbox.close()
        await client.aclose()


async def copy_into(
    redis_url: str,
    prefix: str,
    stream: str,
    start: str,
    end: str,
    into: str,
    *,
    limit: int,
    progress: Progress | None = None,
    replace: bool = False,
) -> list[str]:
    """Copy the range into `debug:...`; returns the new entry ids. An existing stream is
    refused (a second copy would follow the first), or deleted first with `replace`."""
    target = debug_stream(into, stream)
    client = async_client(redis_url)
    try:
        entries = await _entries(client, f"{prefix}{stream}", stream, start, end, limit)
        if replace:
            await client.delete(f"{prefix}{target}")
        elif await client.exists(f"{prefix}{target}"):
            raise ValueError(
                f"--into: {target!r} exists; add --replace to delete it first, or name "
                "another debug stream"
            )
        copied = 0

        def advance(count: int) -> None:
            nonlocal copied
            copied += count
            if progress is not None:
                progress(copied, len(entries))

        return await copy_range(client, entries, f"{prefix}{target}", stream, advance)
    finally:
        await client.aclose()


def result_dict(result: Result | None) -> dict[str, Any] | None:
    return None if result is None else result.model_dump(mode="json", exclude_none=True)
