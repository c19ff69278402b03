"""The one DuckDB file of eaflow (results, configuration history, state snapshots): path,
connections that wait out another process's lock, and versioned schema migrations.

Every component that keeps tables in DuckDB uses these helpers, so they agree on the file
(`{data_dir}/eaflow.duckdb`) and on how schemas evolve. DuckDB lets one process write a file
at a time: writers open it for a batch and close it when idle, so other processes (the
`eaflow config` command, an analyst's `duckdb` shell) get their turn.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import duckdb

DATABASE_FILE = "eaflow.duckdb"

Migration = tuple[int, Sequence[str]]
"""A schema version and the SQL statements that bring the previous version to it."""

_VERSIONS_DDL = """
CREATE TABLE IF NOT EXISTS schema_versions (
    component VARCHAR PRIMARY KEY,
    version INTEGER NOT NULL,
    migrated_at TIMESTAMP NOT NULL DEFAULT current_timestamp
)"""


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer eaflow than this one."""


def database_path(data_dir: Path | str) -> Path:
    """Where eaflow's DuckDB file lives: `{data_dir}/eaflow.duckdb`."""
    return Path(data_dir) / DATABASE_FILE


def connect(
    path: Path | str, *, read_only: bool = False, wait: float = 0.0
) -> duckdb.DuckDBPyConnection:
    """Open the file, retrying for up to `wait` seconds while another process holds its lock.

    Raises `duckdb.IOException` when the lock is still held after `wait`.
    """
    target = Path(path)
    if not read_only:
        target.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    delay = 0.02
    while True:
        try:
            return duckdb.connect(str(target), read_only=read_only)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


_MIGRATING = threading.Lock()
"""One migration at a time in a process: two connections to one file (the results and
trades sinks, the configuration history of the `rtrs` worker) creating `schema_versions`
at once fail with a write-write conflict; other processes wait for the file's lock."""


def schema_version(con: duckdb.DuckDBPyConnection, component: str) -> int:
    """The version `component`'s tables are at; 0 when it has none yet."""
    con.execute(_VERSIONS_DDL)
    rows = con.execute(
        "SELECT version FROM schema_versions WHERE component = ?", [component]
    ).fetchall()
    return int(rows[0][0]) if rows else 0


def migrate(con: duckdb.DuckDBPyConnection, component: str, migrations: Sequence[Migration]) -> int:
    """Apply the migrations above the recorded version, each in its own transaction.

    Returns the version reached. Run on start, so a new eaflow upgrades the file in place.
    Example: ``migrate(con, "results", [(1, ["CREATE TABLE results (...)"])])``.
    """
    with _MIGRATING:
        return _migrate(con, component, migrations)


def _migrate(
    con: duckdb.DuckDBPyConnection, component: str, migrations: Sequence[Migration]
) -> int:
    current = schema_version(con, component)
    latest = max((version for version, _ in migrations), default=0)
    if current > latest:
        raise SchemaTooNew(
            f"schema_versions: {component} is at version {current}, this eaflow knows up to "
            f"{latest}; upgrade eaflow"
        )
    for version, statements in sorted(migrations, key=lambda m: m[0]):
        if version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in statements:
                con.execute(statement)
            con.execute(
                "INSERT OR REPLACE INTO schema_versions (component, version, migrated_at) "
                "VALUES (?, ?, current_timestamp)",
                [component, version],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        current = version
    return current
