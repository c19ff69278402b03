"""Results → one Arrow table: every column, first result_id wins, oversize decimals."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sinks.batch import results_table
from sinks.schema import ARROW_SCHEMA
from tests.sinks.conftest import fill, rejection


def test_every_field_lands_in_its_column() -> None:
    table = results_table([("1-0", fill(1)), ("2-0", rejection(2))])
    assert table.schema == ARROW_SCHEMA
    rows = table.to_pylist()
    assert rows[0]["result_id"] == "o1@demo-1"
    assert rows[0]["stream_id"] == "1-0"
    assert rows[0]["status"] == "filled"
    assert rows[0]["price"] == Decimal("1.3875600000")
    assert rows[0]["volume"] == Decimal("0.1000000000")
    assert rows[0]["retcode"] == 10009
    assert rows[0]["done_ts"] == datetime(2024, 5, 6, 12, 53, 21, 2100)
    assert rows[1]["instance"] == "*"
    assert rows[1]["field"] == "volume"
    assert rows[1]["price"] is None and rows[1]["retcode"] is None


def test_a_result_id_seen_twice_keeps_the_first_entry() -> None:
    table = results_table([("1-0", fill(1)), ("2-0", fill(2)), ("3-0", fill(1, volume="0.2"))])
    assert table.column("stream_id").to_pylist() == ["1-0", "2-0"]
    assert table.column("volume").to_pylist() == [Decimal("0.1"), Decimal("0.1")]


def test_a_decimal_too_large_for_the_table_becomes_null() -> None:
    huge = fill(1, price=Decimal("1e30"), volume=Decimal("0.123456789012"))
    row = results_table([("1-0", huge)]).to_pylist()[0]
    assert row["price"] is None
    assert row["volume"] == Decimal("0.1234567890")  # rounded to the column's 10 places


def test_an_empty_batch_is_an_empty_table() -> None:
    assert results_table([]).num_rows == 0
