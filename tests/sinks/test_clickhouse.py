"""The ClickHouse store on chDB's engine: the same DDL, batching and SQL a server gets."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from model.errors import MissingExtra
from sinks.batch import results_table
from sinks.clickhouse import ClickHouseStore, chdb_url, check_url
from sinks.schema import COLUMNS
from sinks.types import SinkUnavailable
from tests.sinks.conftest import fill, rejection


def test_the_migrated_table_has_the_schema_columns(chdb_store: ClickHouseStore) -> None:
    chdb_store.open()
    for table in ("results_log", "results"):
        described = chdb_store._client.query(f"DESCRIBE TABLE eaflow.{table}").result_rows
        assert [row[0] for row in described] == [c.name for c in COLUMNS]
    engine = chdb_store._client.query(
        "SELECT engine, sorting_key FROM system.tables "
        "WHERE database = 'eaflow' AND name LIKE 'results%' ORDER BY name"
    ).result_rows
    assert engine == [("View", ""), ("ReplacingMergeTree", "result_id")]


def test_a_redelivered_batch_inserts_nothing(chdb_store: ClickHouseStore) -> None:
    batch = results_table([(f"{n}-0", fill(n)) for n in range(1, 51)])
    assert chdb_store.write(batch) == 50
    assert chdb_store.write(batch) == 0
    overlapping = results_table([(f"{n}-0", fill(n)) for n in range(41, 61)])
    assert chdb_store.write(overlapping) == 10
    chdb_store.close()
    assert chdb_store.write(results_table([("99-0", rejection(99))])) == 1
    counted = chdb_store._client.query(
        "SELECT count(), uniqExact(result_id) FROM eaflow.results_log"
    ).result_rows
    assert counted == [(61, 61)]  # the table itself: no duplicate was ever written


def test_values_round_trip(chdb_store: ClickHouseStore) -> None:
    chdb_store.write(results_table([("7-1", fill(7)), ("8-0", rejection(8))]))
    got = chdb_store._client.query(
        "SELECT result_id, stream_id, status, price, volume, retcode, field, done_ts "
        "FROM eaflow.results ORDER BY result_id"
    ).result_rows
    assert [row[:7] for row in got] == [
        ("o7@demo-1", "7-1", "filled", fill(7).price, fill(7).volume, 10009, None),
        ("r8@*", "8-0", "rejected", None, None, None, "volume"),
    ]
    assert got[0][7].isoformat().startswith("2024-05-06T12:53:27.0021")


def test_a_blocked_database_path_fails_until_cleared(tmp_path: Path) -> None:
    (tmp_path / "clickhouse").write_text("not a directory")
    store = ClickHouseStore(chdb_url(tmp_path))
    with pytest.raises(SinkUnavailable, match=r"clickhouse: cannot open chdb://.*File exists"):
        store.write(results_table([("1-0", fill(1))]))
    assert not store.is_open
    (tmp_path / "clickhouse").unlink()
    assert store.write(results_table([("1-0", fill(1))])) == 1
    store.close()


def test_urls_are_checked() -> None:
    assert check_url("chdb:///var/lib/eaflow/clickhouse") == "chdb"
    assert check_url("clickhouse://default:@db.example:8123/eaflow") == "clickhouse"
    with pytest.raises(ValueError, match="clickhouse_url: unknown scheme 'mysql'"):
        ClickHouseStore("mysql://db.example")
    with pytest.raises(ValueError, match="database: must be an identifier"):
        ClickHouseStore("chdb:///tmp/x", database="eaflow; DROP")


def test_missing_chdb_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingExtra, match=r"pip install 'eaflow\[chdb\]'"):
        ClickHouseStore("chdb:///tmp/x")


def test_strategy_and_comment_round_trip(chdb_store: ClickHouseStore) -> None:
    tagged = fill(3, strategy="trend", comment="trend entry 3")
    chdb_store.write(results_table([("3-0", tagged), ("4-0", fill(4))]))
    got = chdb_store._client.query(
        "SELECT result_id, strategy, comment FROM eaflow.results ORDER BY result_id"
    ).result_rows
    assert got == [("o3@demo-1", "trend", "trend entry 3"), ("o4@demo-1", None, None)]
