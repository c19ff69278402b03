"""The DuckDB store: schema from the migrations, exactly once per result_id, file locks."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from sinks.batch import results_table
from sinks.database import migrate, schema_version
from sinks.duckdb import DuckDbStore
from sinks.schema import COLUMNS, DUCKDB_MIGRATIONS
from sinks.types import SinkUnavailable
from tests.sinks.conftest import LockHolder, fill, rejection


def test_the_migrated_table_has_the_schema_columns(tmp_path: Path) -> None:
    store = DuckDbStore(tmp_path / "eaflow.duckdb")
    store.open()
    store.close()
    con = duckdb.connect(str(tmp_path / "eaflow.duckdb"))
    described = con.execute("DESCRIBE results").fetchall()
    assert [row[0] for row in described] == [c.name for c in COLUMNS]
    assert schema_version(con, "results") == DUCKDB_MIGRATIONS[-1][0]
    con.close()


def test_a_redelivered_batch_inserts_nothing(tmp_path: Path) -> None:
    store = DuckDbStore(tmp_path / "eaflow.duckdb")
    batch = results_table([(f"{n}-0", fill(n)) for n in range(1, 51)])
    assert store.write(batch) == 50
    assert store.write(batch) == 0
    overlapping = results_table([(f"{n}-0", fill(n)) for n in range(41, 61)])
    assert store.write(overlapping) == 10
    store.close()
    store.write(results_table([("99-0", rejection(99))]))  # reopens on its own
    store.close()
    con = duckdb.connect(str(tmp_path / "eaflow.duckdb"), read_only=True)
    assert con.execute("SELECT count(*), count(DISTINCT result_id) FROM results").fetchone() == (
        61,
        61,
    )
    con.close()


def test_a_file_locked_by_another_process_fails_the_write_until_released(
    tmp_path: Path,
) -> None:
    path = tmp_path / "eaflow.duckdb"
    store = DuckDbStore(path)
    store.open()
    store.close()
    holder = LockHolder(path)
    try:
        with pytest.raises(SinkUnavailable, match="lock"):
            store.write(results_table([("1-0", fill(1))]))
        assert not store.is_open
    finally:
        holder.release()
    assert store.write(results_table([("1-0", fill(1))])) == 1
    store.close()


def test_a_version_1_table_gains_strategy_and_comment(tmp_path: Path) -> None:
    """A database written before migration 2 keeps its rows and takes tagged results."""
    path = tmp_path / "eaflow.duckdb"
    con = duckdb.connect(str(path))
    migrate(con, "results", DUCKDB_MIGRATIONS[:1])
    con.close()
    store = DuckDbStore(path)
    tagged = fill(2, strategy="trend", comment="trend entry 2")
    assert store.write(results_table([("1-0", fill(1)), ("2-0", tagged)])) == 2
    store.close()
    con = duckdb.connect(str(path), read_only=True)
    rows = con.execute("SELECT result_id, strategy, comment FROM results ORDER BY 1").fetchall()
    assert rows == [("o1@demo-1", None, None), ("o2@demo-1", "trend", "trend entry 2")]
    con.close()


def test_a_version_2_file_gains_the_copying_columns_and_stores_them(tmp_path: Path) -> None:
    """Migration 3: results keep the broker's symbol beside the signal's and the sizing rule."""
    path = tmp_path / "eaflow.duckdb"
    con = duckdb.connect(str(path))
    migrate(con, "results", DUCKDB_MIGRATIONS[:2])  # the file as version 2 left it
    con.close()
    store = DuckDbStore(path)
    copied = fill(1, symbol="EURUSD.m", signal_symbol="EURUSD", sizing="volume 0.05 × 2")
    assert store.write(results_table([("1-0", copied)])) == 1
    store.close()
    con = duckdb.connect(str(path), read_only=True)
    row = con.execute("SELECT symbol, signal_symbol, sizing FROM results").fetchone()
    assert row == ("EURUSD.m", "EURUSD", "volume 0.05 × 2")
    con.close()
