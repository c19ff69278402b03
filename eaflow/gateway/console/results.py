"""The console's result log and realised P&L, read from eaflow's DuckDB file.

The `rtrs` worker's sinks write `results` and `trades` there (sinks/duckdb.py); the console
opens the file read-only for each request, waiting a moment for a writer's lock (the sinks
close it when idle), so it never holds the file. Filters are query parameters, validated
(422 naming the field); `format=csv` answers CSV with a header. Viewers may read both.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import duckdb
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from eaflow.gateway.console.actions import Name, refused
from model.enums import OrderStatus
from sinks.database import connect

LOCK_WAIT = 2.0  # seconds a read waits for the writer's lock before a 503
MAX_ROWS = 10_000

RESULT_COLUMNS = (
    "done_ts, instance, symbol, action, status, source, strategy, signal_id, order_id, "
    "retcode_name, price, volume, field, error, comment"
)

PNL_SQL = """
SELECT CAST(make_timestamp(CAST(closed_at * 1000000 AS BIGINT)) AS DATE) AS day,
       instance, coalesce(strategy, '') AS strategy, count(*) AS trades,
       sum(profit) AS gross, sum(commission + swap + fee) AS costs,
       sum(profit + commission + swap + fee) AS net
FROM trades
WHERE status = 'CLOSED' AND closed_at IS NOT NULL{where}
GROUP BY day, instance, strategy
ORDER BY day, instance, strategy
"""

# Each closed trade with the running sum of its instance's net realised P&L, oldest first;
# the newest `limit` trades are kept (the sum still counts every trade before them).
CURVE_SQL = """
SELECT * FROM (
  SELECT make_timestamp(CAST(closed_at * 1000000 AS BIGINT)) AS closed_ts, closed_at,
         instance, trade_id, symbol, coalesce(strategy, '') AS strategy,
         profit + commission + swap + fee AS net,
         sum(profit + commission + swap + fee) OVER (
           PARTITION BY instance ORDER BY closed_at, trade_id ROWS UNBOUNDED PRECEDING
         ) AS cumulative
  FROM trades
  WHERE status = 'CLOSED' AND closed_at IS NOT NULL{where}
  ORDER BY closed_at DESC, instance DESC, trade_id DESC
  LIMIT {limit}
) ORDER BY closed_at, instance, trade_id
"""

router = APIRouter(prefix="/console/api", tags=["console"])
Format = Literal["json", "csv"]
Since = Annotated[
    datetime | None, Query(description="from this time on (ISO 8601, UTC when naive)")
]
Until = Annotated[datetime | None, Query(description="before this time (ISO 8601)")]


def database_of(request: Request) -> Path | None:
    found: Path | None = request.app.state.console_database
    return found


def seconds(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def window(column: str, since: datetime | None, until: datetime | None) -> list[tuple[str, Any]]:
    """The time filters on a Unix-seconds column; 422 when `until` is not after `since`."""
    if since is not None and until is not None and seconds(until) <= seconds(since):
        raise refused(422, "until", "must be after since")
    found: list[tuple[str, Any]] = []
    if since is not None:
        found.append((f"{column} >= ?", seconds(since)))
    if until is not None:
        found.append((f"{column} < ?", seconds(until)))
    return found


def read(path: Path | None, sql: str, params: list[Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and rows of `sql`; none without the file or its table yet; 503 while
    a writer holds the file past LOCK_WAIT."""
    if path is None or not path.exists():
        return [], []
    try:
        con = connect(path, read_only=True, wait=LOCK_WAIT)
    except duckdb.Error as error:  # the lock, held past LOCK_WAIT (its path stays private)
        busy = refused(503, "database", "held by a writer, retry shortly", "unavailable")
        busy.headers = {"Retry-After": "2"}
        raise busy from error
    try:
        # A missing table must not resolve to a Python object of that name (this module's
        # `results`): DuckDB's replacement scans would look it up in the calling frames.
        con.execute("SET python_enable_replacements = false")
        cursor = con.execute(sql, params)
        return [d[0] for d in cursor.description or ()], cursor.fetchall()
    except duckdb.CatalogException:  # no table yet: nothing recorded
        return [], []
    finally:
        con.close()


def plain(value: Any) -> Any:
    """A cell as JSON shows it: times in ISO 8601, decimals as floats."""
    if hasattr(value, "isoformat"):  # datetime, date
        return value.isoformat()
    if value is not None and not isinstance(value, (str, int, float, bool)):
        return float(value)
    return value


def answer(columns: list[str], rows: list[tuple[Any, ...]], fmt: Format, name: str) -> Response:
    if fmt == "json":
        return JSONResponse([dict(zip(columns, map(plain, row), strict=True)) for row in rows])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows([plain(v) for v in row] for row in rows)
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


async def query(
    request: Request, sql: str, where: list[tuple[str, Any]], tail: str = "", **parts: Any
) -> tuple[list[str], list[tuple[Any, ...]]]:
    text = sql.format(where="".join(f" AND {w}" for w, _ in where), **parts) + tail
    params = [v for _, v in where]
    return await asyncio.to_thread(read, database_of(request), text, params)


@router.get("/results", summary="The result log, newest first, filtered (json or csv)")
async def results(
    request: Request,
    instance: Name | None = None,
    symbol: Name | None = None,
    status: OrderStatus | None = None,
    source: Name | None = None,
    strategy: Name | None = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 1000,
    format: Format = "json",
) -> Response:
    where = [
        (f"{name} = ?", value.value if isinstance(value, OrderStatus) else value)
        for name, value in (
            ("instance", instance),
            ("symbol", symbol),
            ("status", status),
            ("source", source),
            ("strategy", strategy),
        )
        if value is not None
    ]
    where += window("done_at", since, until)
    sql = f"SELECT {RESULT_COLUMNS} FROM results WHERE true{{where}}"
    columns, rows = await query(
        request, sql, where, f" ORDER BY done_at DESC, stream_id DESC LIMIT {limit}"
    )
    return answer(columns, rows, format, "results")


def trade_filters(
    instance: str | None, strategy: str | None, since: datetime | None, until: datetime | None
) -> list[tuple[str, Any]]:
    """The P&L filters on closed trades: instance, strategy, closing time."""
    where: list[tuple[str, Any]] = [
        (f"{name} = ?", value)
        for name, value in (("instance", instance), ("strategy", strategy))
        if value is not None
    ]
    return where + window("closed_at", since, until)


@router.get("/pnl", summary="Realised P&L of closed trades by day (UTC), instance and strategy")
async def pnl(
    request: Request,
    instance: Name | None = None,
    strategy: Name | None = None,
    since: Since = None,
    until: Until = None,
    format: Format = "json",
) -> Response:
    columns, rows = await query(request, PNL_SQL, trade_filters(instance, strategy, since, until))
    return answer(columns, rows, format, "pnl")


@router.get(
    "/pnl/curve",
    summary="Cumulative realised P&L per instance, one point per closed trade (json or csv)",
)
async def curve(
    request: Request,
    instance: Name | None = None,
    strategy: Name | None = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = MAX_ROWS,
    format: Format = "json",
) -> Response:
    where = trade_filters(instance, strategy, since, until)
    columns, rows = await query(request, CURVE_SQL, where, limit=limit)
    return answer(columns, rows, format, "pnl_curve")
