"""The console's equity curve: the account states the `rtrs` worker's sinks recorded in
eaflow's DuckDB file (`account_states`, sinks/states.py), read as the result log is
(eaflow.gateway.console.results: read-only, 422 naming a bad filter, 503 while a writer
holds the file, [] before anything is stored)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from eaflow.gateway.console.actions import Name
from eaflow.gateway.console.results import MAX_ROWS, Format, Since, Until, answer, query, window

router = APIRouter(prefix="/console/api", tags=["console"])

# The newest `limit` rows, oldest first.
EQUITY_SQL = """
SELECT * FROM (
  SELECT make_timestamp(CAST(ts * 1000000 AS BIGINT)) AS taken_ts, ts, instance, currency,
         balance, equity, margin, margin_free, margin_level, profit, positions, orders
  FROM account_states
  WHERE true{where}
  ORDER BY ts DESC, instance DESC, stream_id DESC
  LIMIT {limit}
) ORDER BY ts, instance
"""


@router.get(
    "/equity",
    summary="Recorded account states (equity, balance, margin) over time, oldest first "
    "(json or csv)",
)
async def equity(
    request: Request,
    instance: Name | None = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = MAX_ROWS,
    format: Format = "json",
) -> Response:
    where = [("instance = ?", instance)] if instance is not None else []
    where += window("ts", since, until)
    columns, rows = await query(request, EQUITY_SQL, where, limit=limit)
    return answer(columns, rows, format, "equity")
