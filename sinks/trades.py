"""The `trades` table: every entry of the `trades` stream (a trade opened, changed or
closed), in DuckDB and ClickHouse alike, once per `state_id`.

Realised P&L is a sum over its CLOSED rows (docs/analytics.md). Money and prices are DOUBLE,
as the broker reports them; times are epoch seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from model.trade import TradeState
from sinks.database import Migration
from sinks.schema import Column, Table

COLUMNS: tuple[Column, ...] = (
    Column("state_id", pa.string(), nullable=False),
    Column("stream_id", pa.string(), nullable=False),  # the `trades` entry id
    Column("trade_id", pa.int64(), nullable=False),
    Column("instance", pa.string(), nullable=False),
    Column("seq", pa.int32(), nullable=False),
    Column("event", pa.string(), nullable=False),
    Column("status", pa.string(), nullable=False),
    Column("symbol", pa.string(), nullable=False),
    Column("side", pa.string(), nullable=False),
    Column("volume", pa.float64(), nullable=False),
    Column("closed_volume", pa.float64(), nullable=False),
    Column("entry_price", pa.float64(), nullable=False),
    Column("stop_loss", pa.float64()),
    Column("take_profit", pa.float64()),
    Column("close_price", pa.float64()),
    Column("profit", pa.float64(), nullable=False),
    Column("realized_profit", pa.float64(), nullable=False),
    Column("commission", pa.float64(), nullable=False),
    Column("swap", pa.float64(), nullable=False),
    Column("fee", pa.float64(), nullable=False),
    Column("magic", pa.int64(), nullable=False),
    Column("comment", pa.string(), nullable=False),
    Column("strategy", pa.string()),
    Column("opened_at", pa.float64(), nullable=False),
    Column("closed_at", pa.float64()),
    Column("ts", pa.float64(), nullable=False),
)

# Migrations are frozen history: never edit a released step, append a new one.
DUCKDB_MIGRATIONS: tuple[Migration, ...] = (
    (
        1,
        (
            """CREATE TABLE trades (
                state_id VARCHAR PRIMARY KEY,
                stream_id VARCHAR NOT NULL,
                trade_id BIGINT NOT NULL,
                instance VARCHAR NOT NULL,
                seq INTEGER NOT NULL,
                event VARCHAR NOT NULL,
                status VARCHAR NOT NULL,
                symbol VARCHAR NOT NULL,
                side VARCHAR NOT NULL,
                volume DOUBLE NOT NULL,
                closed_volume DOUBLE NOT NULL,
                entry_price DOUBLE NOT NULL,
                stop_loss DOUBLE,
                take_profit DOUBLE,
                close_price DOUBLE,
                profit DOUBLE NOT NULL,
                realized_profit DOUBLE NOT NULL,
                commission DOUBLE NOT NULL,
                swap DOUBLE NOT NULL,
                fee DOUBLE NOT NULL,
                magic BIGINT NOT NULL,
                comment VARCHAR NOT NULL,
                strategy VARCHAR,
                opened_at DOUBLE NOT NULL,
                closed_at DOUBLE,
                ts DOUBLE NOT NULL
            )""",
        ),
    ),
)

CLICKHOUSE_MIGRATIONS: tuple[Migration, ...] = (
    (
        1,
        (
            """CREATE TABLE IF NOT EXISTS {db}.trades_log (
                state_id String,
                stream_id String,
                trade_id Int64,
                instance LowCardinality(String),
                seq Int32,
                event LowCardinality(String),
                status LowCardinality(String),
                symbol LowCardinality(String),
                side LowCardinality(String),
                volume Float64,
                closed_volume Float64,
                entry_price Float64,
                stop_loss Nullable(Float64),
                take_profit Nullable(Float64),
                close_price Nullable(Float64),
                profit Float64,
                realized_profit Float64,
                commission Float64,
                swap Float64,
                fee Float64,
                magic Int64,
                comment String,
                strategy LowCardinality(Nullable(String)),
                opened_at Float64,
                closed_at Nullable(Float64),
                ts Float64
            ) ENGINE = ReplacingMergeTree ORDER BY state_id""",
            "CREATE VIEW IF NOT EXISTS {db}.trades AS SELECT * FROM {db}.trades_log FINAL",
        ),
    ),
)

TRADES = Table(
    "trades", "state_id", COLUMNS, DUCKDB_MIGRATIONS, CLICKHOUSE_MIGRATIONS, "trades_log", "-trades"
)


def trades_table(entries: Iterable[tuple[str, TradeState]]) -> pa.Table:
    """One row per distinct state_id (the first entry wins), in stream order; `entries` are
    (`trades` entry id, entry) pairs."""
    seen: set[str] = set()
    columns: dict[str, list[Any]] = {c.name: [] for c in COLUMNS}
    for stream_id, entry in entries:
        if entry.state_id in seen:
            continue
        seen.add(entry.state_id)
        row = entry.model_dump(mode="json")
        row["stream_id"] = stream_id
        for name, values in columns.items():
            values.append(row[name])
    return pa.Table.from_pydict(columns, schema=TRADES.arrow_schema)
