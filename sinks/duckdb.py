"""DuckDB store of results: Arrow batches into eaflow's one DuckDB file, once per result_id."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from sinks.database import connect, migrate
from sinks.schema import COLUMN_NAMES, DUCKDB_MIGRATIONS, TABLE
from sinks.types import SinkUnavailable, first_line

_INSERT = f"INSERT OR IGNORE INTO {TABLE} ({COLUMN_NAMES}) SELECT {COLUMN_NAMES} FROM result_batch"


class DuckDbStore:
    """The `results` table of `{data_dir}/eaflow.duckdb`.

    The primary key on result_id makes a redelivered batch insert nothing. The file is
    opened on the first write and closed by the sink when idle, so other processes can open
    it in between; a lock held elsewhere makes `write` fail and the sink retry later.
    """

    name = "duckdb"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
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
            migrate(con, "results", DUCKDB_MIGRATIONS)
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
        con.register("result_batch", batch)
        try:
            rows = con.execute(_INSERT).fetchall()
        finally:
            con.unregister("result_batch")
        return int(rows[0][0]) if rows else 0

    def close(self) -> None:
        if self._con is not None:
            con, self._con = self._con, None
            con.close()
