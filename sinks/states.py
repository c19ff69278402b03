"""The `account_states` table: account snapshots of `rts` (balance, equity, margin...),
sampled, in DuckDB and ClickHouse alike, once per `rts` entry.

`rts` has an entry each time an instance's snapshot changed, up to twice a second: with
open positions, every poll. `StateRows` keeps one of them per instance every `interval`
seconds, and every one whose balance differs from the instance's last row (a deal), so an
equity curve is exact where the balance steps (the exact rule: `StateRows`). Money is DOUBLE, as the
broker reports it; `ts` is the snapshot's time in epoch seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import structlog
from pydantic import ValidationError

from model import AccountState
from sinks.database import Migration
from sinks.schema import Column, Table
from sinks.types import first_line

log = structlog.get_logger(__name__)

COLUMNS: tuple[Column, ...] = (
    Column("stream_id", pa.string(), nullable=False),  # the `rts` entry id
    Column("ts", pa.float64(), nullable=False),
    Column("instance", pa.string(), nullable=False),
    Column("login", pa.int64(), nullable=False),
    Column("currency", pa.string(), nullable=False),
    Column("balance", pa.float64(), nullable=False),
    Column("equity", pa.float64(), nullable=False),
    Column("margin", pa.float64(), nullable=False),
    Column("margin_free", pa.float64(), nullable=False),
    Column("margin_level", pa.float64(), nullable=False),
    Column("profit", pa.float64(), nullable=False),
    Column("positions", pa.int32(), nullable=False),  # how many open positions
    Column("orders", pa.int32(), nullable=False),  # how many pending orders
)

# Migrations are frozen history: never edit a released step, append a new one.
DUCKDB_MIGRATIONS: tuple[Migration, ...] = (
    (
        1,
        (
            """CREATE TABLE account_states (
                stream_id VARCHAR PRIMARY KEY,
                ts DOUBLE NOT NULL,
                instance VARCHAR NOT NULL,
                login BIGINT NOT NULL,
                currency VARCHAR NOT NULL,
                balance DOUBLE NOT NULL,
                equity DOUBLE NOT NULL,
                margin DOUBLE NOT NULL,
                margin_free DOUBLE NOT NULL,
                margin_level DOUBLE NOT NULL,
                profit DOUBLE NOT NULL,
                positions INTEGER NOT NULL,
                orders INTEGER NOT NULL
            )""",
        ),
    ),
)

CLICKHOUSE_MIGRATIONS: tuple[Migration, ...] = (
    (
        1,
        (
            """CREATE TABLE IF NOT EXISTS {db}.account_states_log (
                stream_id String,
                ts Float64,
                instance LowCardinality(String),
                login Int64,
                currency LowCardinality(String),
                balance Float64,
                equity Float64,
                margin Float64,
                margin_free Float64,
                margin_level Float64,
                profit Float64,
                positions Int32,
                orders Int32
            ) ENGINE = ReplacingMergeTree ORDER BY stream_id""",
            "CREATE VIEW IF NOT EXISTS {db}.account_states AS "
            "SELECT * FROM {db}.account_states_log FINAL",
        ),
    ),
)

STATES = Table(
    "account_states",
    "stream_id",
    COLUMNS,
    DUCKDB_MIGRATIONS,
    CLICKHOUSE_MIGRATIONS,
    "account_states_log",
    "-states",
)


class StateRows:
    """The rows of a batch of `rts` entries, sampled (one per sink: each reads `rts` at its
    own pace).

    An entry becomes a row when it is its instance's first since the sink started, when its
    `ts` is `interval` seconds or more away from the instance's last row's (either way: a
    snapshot claimed from a dead consumer after newer ones is not swallowed), or when its
    balance differs from that row's; `interval` 0 keeps every entry. So every snapshot
    left out has a row of its instance with its balance less than `interval` seconds away.
    The last rows move only when a batch is stored (`written`), so a batch that failed is
    sampled the same way when it is retried. An entry that is no account state is left
    out with a warning: retrying cannot make it one.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.last: dict[str, tuple[float, float]] = {}  # instance → its last row's ts, balance

    def __call__(self, entries: Iterable[tuple[str, Any]]) -> pa.Table:
        last = dict(self.last)
        columns: dict[str, list[Any]] = {c.name: [] for c in COLUMNS}
        for stream_id, value in entries:
            state = _state(stream_id, value)
            if state is None or not self._keeps(state, last.get(state.instance)):
                continue
            last[state.instance] = (state.ts, state.balance)
            row = state.model_dump(exclude={"positions", "orders", "last_error"})
            row.update(
                stream_id=stream_id, positions=len(state.positions), orders=len(state.orders)
            )
            for name, values in columns.items():
                values.append(row[name])
        return pa.Table.from_pydict(columns, schema=STATES.arrow_schema)

    def _keeps(self, state: AccountState, last: tuple[float, float] | None) -> bool:
        if last is None or self.interval <= 0:
            return True
        ts, balance = last
        return state.balance != balance or abs(state.ts - ts) >= self.interval

    def written(self, batch: pa.Table) -> None:
        """A batch is stored: its rows are their instances' last rows now."""
        for instance, ts, balance in zip(
            batch.column("instance").to_pylist(),
            batch.column("ts").to_pylist(),
            batch.column("balance").to_pylist(),
            strict=True,
        ):
            self.last[instance] = (ts, balance)


def _state(stream_id: str, value: Any) -> AccountState | None:
    try:
        return AccountState.model_validate(value)
    except ValidationError as error:
        log.warning("state_entry_invalid", stream_id=stream_id, error=first_line(error))
        return None
