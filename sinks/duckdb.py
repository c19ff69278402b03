"""DuckDB store of results (or trades): Arrow batches into eaflow's one DuckDB file, once per
key (result_id, state_id)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from sinks.database import connect, migrate
from sinks.schema import RESULTS, Table
from sinks.types import SinkUnavailable, first_line


class DuckDbStore:
    """The `results` table (or another `table`) of `{data_dir}/eaflow.duckdb`.

    The primary key on the table's key (result_id) makes a redelivered batch insert nothing.
    The file is opened on the first write and closed by the sink when idle, so other
    processes can open it in between; a lock held elsewhere makes `write` fail and the sink
    retry later.
    """

    def __init__(self, path: Path | str, table: Table = RESULTS) -> None:
        self.path = Path(path)
        self.table = table
        self.name = f"duckdb{table.tag}"
        columns = table.column_names
        self._insert = (
            f"INSERT OR IGNORE INTO {table.name} ({columns}) SELECT {columns} FROM sink_batch"
        )
        self._con: duckdb.DuckDBPyConnection | None = None

    @property
    def is_open(self) -> bool:
        return self._con is not None

    def open(self) -> None:
        if self._con is not None:
            return
        try:
            con = connect(self.path)
        except duckdb.IOException as error:
            raise SinkUnavailable(
                f"duckdb: cannot open {self.path}: {first_line(error)}"
            ) from error
        try:
            migrate(con, self.table.name, self.table.duckdb_migrations)
        except BaseException:
            con.close()
            raise
        self._con = con

    def write(self, batch: pa.Table) -> int:
        self.open()
        con = self._con
        assert con is not None
        if batch.num_rows == 0:
            return 0
        con.register("sink_batch", batch)
        try:
            rows = con.execute(self._insert).fetchall()
        finally:
            con.unregister("sink_batch")
        return int(rows[0][0]) if rows else 0

    def close(self) -> None:
        if self._con is not None:
            con, self._con = self._con, None
            con.close()
