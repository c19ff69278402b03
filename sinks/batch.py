"""Turn a batch of results from `rtrs` into one Arrow table: the unit every sink writes.

Databases take Arrow batches a thousand times faster than row-by-row inserts, and both
DuckDB and ClickHouse read the same table.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import structlog

from model import Result
from sinks.schema import ARROW_SCHEMA, COLUMNS

log = structlog.get_logger(__name__)

_SCALE = Decimal("1e-10")
_LIMIT = Decimal("1e28")  # DECIMAL(38, 10) holds 28 digits before the point
_DECIMALS = ("requested_price", "price", "volume")
_FIELDS = tuple(c.name for c in COLUMNS if c.name not in ("stream_id", "done_ts"))


def results_table(entries: Iterable[tuple[str, Result]]) -> pa.Table:
    """One row per distinct result_id (the first entry wins), in stream order.

    `entries` are (rtrs entry id, result) pairs. A decimal too large for the table becomes
    NULL with a warning instead of blocking the sink forever.
    """
    seen: set[str] = set()
    columns: dict[str, list[Any]] = {name: [] for name in _FIELDS}
    stream_ids: list[str] = []
    for stream_id, result in entries:
        if result.result_id in seen:
            continue
        seen.add(result.result_id)
        stream_ids.append(stream_id)
        for name, values in columns.items():
            values.append(getattr(result, name))
    ids = columns["result_id"]
    for name in _DECIMALS:
        columns[name] = [_fit(v, i, name) for v, i in zip(columns[name], ids, strict=True)]
    arrays: dict[str, pa.Array] = {
        name: pa.array(values, ARROW_SCHEMA.field(name).type) for name, values in columns.items()
    }
    arrays["stream_id"] = pa.array(stream_ids, pa.string())
    micros = pc.round(pc.multiply(arrays["done_at"], 1_000_000))
    arrays["done_ts"] = pc.cast(pc.cast(micros, pa.int64()), pa.timestamp("us"))
    return pa.Table.from_pydict({c.name: arrays[c.name] for c in COLUMNS}, schema=ARROW_SCHEMA)


def _fit(value: Decimal | None, result_id: str, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        if value.is_finite() and -_LIMIT < value < _LIMIT:
            return value.quantize(_SCALE)
    except InvalidOperation:
        pass
    log.warning("sink_value_out_of_range", result_id=result_id, field=name, value=str(value))
    return None
