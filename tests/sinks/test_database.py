"""eaflow's DuckDB file: migrations applied once and in order, locks waited out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from sinks.database import SchemaTooNew, connect, database_path, migrate, schema_version

STEPS = (
    (1, ["CREATE TABLE notes (id INTEGER PRIMARY KEY)"]),
    (2, ["ALTER TABLE notes ADD COLUMN body VARCHAR"]),
)


def test_database_path_is_in_the_data_dir(tmp_path: Path) -> None:
    assert database_path(tmp_path) == tmp_path / "eaflow.duckdb"


def test_migrations_apply_in_order_once(tmp_path: Path) -> None:
    con = connect(tmp_path / "db" / "eaflow.duckdb")
    assert migrate(con, "notes", STEPS[:1]) == 1
    con.execute("INSERT INTO notes VALUES (1)")
    assert migrate(con, "notes", STEPS) == 2
    assert migrate(con, "notes", STEPS) == 2  # nothing left to apply: no error
    assert con.execute("SELECT id, body FROM notes").fetchall() == [(1, None)]
    assert schema_version(con, "notes") == 2
    assert schema_version(con, "other") == 0
    con.close()


def test_a_failed_migration_leaves_the_previous_version(tmp_path: Path) -> None:
    con = connect(tmp_path / "eaflow.duckdb")
    migrate(con, "notes", STEPS[:1])
    broken = (*STEPS[:1], (2, ["ALTER TABLE notes ADD COLUMN body VARCHAR", "SELECT nope"]))
    with pytest.raises(duckdb.BinderException):
        migrate(con, "notes", broken)
    assert schema_version(con, "notes") == 1
    assert [row[0] for row in con.execute("DESCRIBE notes").fetchall()] == ["id"]
    con.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    con = connect(tmp_path / "eaflow.duckdb")
    migrate(con, "notes", STEPS)
    with pytest.raises(SchemaTooNew, match="notes is at version 2"):
        migrate(con, "notes", STEPS[:1])
    con.close()


def test_connect_waits_for_another_process_lock(tmp_path: Path) -> None:
    path = tmp_path / "eaflow.duckdb"
    connect(path).close()
    with subprocess.Popen(  # its exit closes the pipe and waits for the holder
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('held', flush=True); "
            "time.sleep(0.5); c.close()",
        ],
        stdout=subprocess.PIPE,
    ) as holder:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        with pytest.raises(duckdb.IOException, match="lock"):
            connect(path)
        con = connect(path, wait=30)
        assert con.execute("SELECT 42").fetchone() == (42,)
        con.close()
