"""The `results` table: its columns in Arrow, DuckDB and ClickHouse, and its migrations; and
`Table`, what a store needs to know of any table the sinks write (results, trades).

One table shape in both databases, so the queries in docs/analytics.md run on either (in
ClickHouse, `results` is a view over the ReplacingMergeTree `results_log`, with FINAL).
Prices and volumes are exact decimals; times are epoch seconds (DOUBLE, portable
arithmetic) plus `done_ts`, a timestamp for grouping by day or hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import pyarrow as pa

from sinks.database import Migration

TABLE = "results"
CLICKHOUSE_TABLE = "results_log"  # the ReplacingMergeTree; `results` is its FINAL view
PRICE = pa.decimal128(38, 10)


@dataclass(frozen=True)
class Column:
    name: str
    arrow: pa.DataType
    nullable: bool = True


COLUMNS: tuple[Column, ...] = (
    Column("result_id", pa.string(), nullable=False),
    Column("stream_id", pa.string(), nullable=False),  # the rtrs entry id
    Column("order_id", pa.string(), nullable=False),
    Column("signal_id", pa.string(), nullable=False),
    Column("instance", pa.string(), nullable=False),
    Column("action", pa.string()),
    Column("symbol", pa.string()),
    Column("status", pa.string(), nullable=False),
    Column("retcode", pa.int32()),
    Column("retcode_name", pa.string()),
    Column("order_ticket", pa.int64()),
    Column("deal_ticket", pa.int64()),
    Column("position_ticket", pa.int64()),
    Column("requested_price", PRICE),
    Column("price", PRICE),
    Column("volume", PRICE),
    Column("field", pa.string()),
    Column("error", pa.string()),
    Column("source", pa.string(), nullable=False),
    Column("received_at", pa.float64()),
    Column("routed_at", pa.float64()),
    Column("sent_at", pa.float64()),
    Column("done_at", pa.float64(), nullable=False),
    Column("done_ts", pa.timestamp("us"), nullable=False),
    Column("strategy", pa.string()),  # the order's strategy tag (decision 0015), since v2
    Column("comment", pa.string()),  # the alert's comment, whole, since v2
    # since v3: copying to many accounts (the broker's `symbol` beside the signal's name)
    Column("signal_symbol", pa.string()),
    Column("sizing", pa.string()),
)

# Migrations are frozen history: never edit a released step, append a new one.
DUCKDB_MIGRATIONS: tuple[Migration, ...] = (
    (
        1,
        (
            """CREATE TABLE results (
                result_id VARCHAR PRIMARY KEY,
                stream_id VARCHAR NOT NULL,
                order_id VARCHAR NOT NULL,
                signal_id VARCHAR NOT NULL,
                instance VARCHAR NOT NULL,
                action VARCHAR,
                symbol VARCHAR,
                status VARCHAR NOT NULL,
                retcode INTEGER,
                retcode_name VARCHAR,
                order_ticket BIGINT,
                deal_ticket BIGINT,
                position_ticket BIGINT,
                requested_price DECIMAL(38, 10),
                price DECIMAL(38, 10),
                volume DECIMAL(38, 10),
                field VARCHAR,
                error VARCHAR,
                source VARCHAR NOT NULL,
                received_at DOUBLE,
                routed_at DOUBLE,
                sent_at DOUBLE,
                done_at DOUBLE NOT NULL,
                done_ts TIMESTAMP NOT NULL
            )""",
        ),
    ),
    (
        2,
        (
            "ALTER TABLE results ADD COLUMN strategy VARCHAR",
            "ALTER TABLE results ADD COLUMN comment VARCHAR",
        ),
    ),
    (
        3,
        (
            "ALTER TABLE results ADD COLUMN signal_symbol VARCHAR",
            "ALTER TABLE results ADD COLUMN sizing VARCHAR",
        ),
    ),
)

CLICKHOUSE_MIGRATIONS: tuple[Migration, ...] = (
    (
        1,
        (
            """CREATE TABLE IF NOT EXISTS {db}.results_log (
                result_id String,
                stream_id String,
                order_id String,
                signal_id String,
                instance LowCardinality(String),
                action LowCardinality(Nullable(String)),
                symbol LowCardinality(Nullable(String)),
                status LowCardinality(String),
                retcode Nullable(Int32),
                retcode_name LowCardinality(Nullable(String)),
                order_ticket Nullable(Int64),
                deal_ticket Nullable(Int64),
                position_ticket Nullable(Int64),
                requested_price Nullable(Decimal(38, 10)),
                price Nullable(Decimal(38, 10)),
                volume Nullable(Decimal(38, 10)),
                field Nullable(String),
                error Nullable(String),
                source LowCardinality(String),
                received_at Nullable(Float64),
                routed_at Nullable(Float64),
                sent_at Nullable(Float64),
                done_at Float64,
                done_ts DateTime64(6, 'UTC')
            ) ENGINE = ReplacingMergeTree ORDER BY result_id""",
            # Queries read `results` on both databases; FINAL collapses duplicates at once.
            "CREATE VIEW IF NOT EXISTS {db}.results AS SELECT * FROM {db}.results_log FINAL",
        ),
    ),
    (
        2,
        (
            "ALTER TABLE {db}.results_log ADD COLUMN IF NOT EXISTS "
            "strategy LowCardinality(Nullable(String))",
            "ALTER TABLE {db}.results_log ADD COLUMN IF NOT EXISTS comment Nullable(String)",
            # The view's `*` was expanded when it was made: made again, it has the new columns.
            "CREATE OR REPLACE VIEW {db}.results AS SELECT * FROM {db}.results_log FINAL",
        ),
    ),
    (
        3,
        (
            "ALTER TABLE {db}.results_log ADD COLUMN IF NOT EXISTS signal_symbol Nullable(String)",
            "ALTER TABLE {db}.results_log ADD COLUMN IF NOT EXISTS sizing Nullable(String)",
            "CREATE OR REPLACE VIEW {db}.results AS SELECT * FROM {db}.results_log FINAL",
        ),
    ),
)


@dataclass(frozen=True)
class Table:
    """A table the sinks write, idempotent on `key`, in DuckDB and in ClickHouse (there a
    ReplacingMergeTree `clickhouse_table` read through a FINAL view named `name`)."""

    name: str  # also its component in `schema_versions`
    key: str
    columns: tuple[Column, ...]
    duckdb_migrations: Sequence[Migration]
    clickhouse_migrations: Sequence[Migration]
    clickhouse_table: str
    tag: str = ""  # appended to a store's name, its consumer group: "duckdb" + "-trades"

    @cached_property  # built once: every batch of the table is shaped by it
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow, nullable=c.nullable) for c in self.columns])

    @cached_property
    def column_names(self) -> str:
        return ", ".join(c.name for c in self.columns)


RESULTS = Table(
    TABLE, "result_id", COLUMNS, DUCKDB_MIGRATIONS, CLICKHOUSE_MIGRATIONS, CLICKHOUSE_TABLE
)
ARROW_SCHEMA = RESULTS.arrow_schema
COLUMN_NAMES = RESULTS.column_names
