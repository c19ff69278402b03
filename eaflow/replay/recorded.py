"""The results recorded for replayed entries: from `rtrs`, else from eaflow's DuckDB file
(results trimmed from the stream after every sink wrote them)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import duckdb
from redis.asyncio import Redis

from eaflow.replay.source import PAGE
from model import Result
from sinks.database import connect

RESULT_FIELDS = tuple(Result.model_fields)


async def from_stream(
    redis: Redis, key: str, since: str, ids: Collection[str], by: str
) -> list[Result]:
    """Results in `key` from `since` on whose `by` field (signal_id or order_id) is in `ids`."""
    found: list[Result] = []
    lower = since
    while True:
        page: Any = await redis.xrange(key, min=lower, max="+", count=PAGE)
        for _, fields in page:
            data = fields.get(b"d")
            if data is None:
                continue
            try:
                result = Result.model_validate_json(data)
            except ValueError:
                continue  # a result the sinks dead-lettered: not comparable
            if getattr(result, by) in ids:
                found.append(result)
        if len(page) < PAGE:
            return found
        last = page[-1][0]
        lower = f"({last.decode() if isinstance(last, bytes) else last}"


def from_duckdb(path: Path, ids: Collection[str], by: str) -> list[Result]:
    """Results stored by the DuckDB sink whose `by` field is in `ids` ([] without a file)."""
    if not ids or not path.exists():
        return []
    con = connect(path, read_only=True, wait=5.0)
    try:
        rows = con.execute(
            f"SELECT {', '.join(RESULT_FIELDS)} FROM results WHERE {by} IN "
            f"(SELECT unnest(?::VARCHAR[])) ORDER BY stream_id",
            [list(ids)],
        ).fetchall()
    except duckdb.CatalogException:  # no results table yet
        return []
    finally:
        con.close()
    return [
        Result.model_validate(
            {k: v for k, v in zip(RESULT_FIELDS, row, strict=True) if v is not None}
        )
        for row in rows
    ]
