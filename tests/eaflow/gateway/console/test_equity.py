"""The console's equity curve, read over HTTP from a DuckDB file the real state sink code
wrote (state_session() sampled every 10 s)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
import pytest

from sinks.duckdb import DuckDbStore
from sinks.states import STATES, StateRows
from tests.eaflow.gateway.console.test_results import iso
from tests.eaflow.gateway.served import BEARER, Served
from tests.sinks.conftest import SAMPLED, T0, LockHolder, state_session

PATH = "/console/api/equity"


def record(path: Path) -> list[dict[str, object]]:
    """state_session() through the sink's sampling into `path`; the rows it kept."""
    batch = StateRows(10.0)(
        (f"{n + 1}-0", s.model_dump(mode="json")) for n, s in enumerate(state_session())
    )
    store = DuckDbStore(path, STATES)
    assert store.write(batch) == batch.num_rows
    store.close()  # the sink closes the file when idle: readers get their turn
    kept: list[dict[str, object]] = batch.to_pylist()
    return kept


@pytest.fixture
def recorded(console: Served, tmp_path: Path) -> list[dict[str, object]]:
    return record(tmp_path / "eaflow.duckdb")


def offsets(rows: list[dict[str, object]]) -> list[float]:
    return [round(float(r["ts"]) - T0, 3) for r in rows]  # type: ignore[arg-type]


def test_each_instances_states_oldest_first_and_each_filter_narrows_them(
    recorded: list[dict[str, object]], viewer: httpx.Client
) -> None:
    got = viewer.get(PATH)
    assert got.status_code == 200, got.text
    rows = got.json()
    assert len(rows) == len(recorded) == 15
    assert [r["ts"] for r in rows] == sorted(r["ts"] for r in rows)
    mine = viewer.get(PATH, params={"instance": "demo-1"}).json()
    assert offsets(mine) == SAMPLED["demo-1"]
    assert {r["instance"] for r in mine} == {"demo-1"}
    deal = mine[2]  # the balance change at 12.5 s, as the sink stored it
    stored = next(r for r in recorded if r["instance"] == "demo-1" and r["ts"] == T0 + 12.5)
    assert deal == {
        "taken_ts": iso(T0 + 12.5).removesuffix("+00:00"),
        **{k: stored[k] for k in ("ts", "instance", "currency", "balance", "equity")},
        **{k: stored[k] for k in ("margin", "margin_free", "margin_level", "profit")},
        "positions": 0,
        "orders": 0,
    }
    assert deal["balance"] == 10_012.5
    window = viewer.get(
        PATH, params={"instance": "demo-2", "since": iso(T0 + 20), "until": iso(T0 + 50)}
    )
    assert offsets(window.json()) == [20, 30, 40, 40.5]
    newest = viewer.get(PATH, params={"instance": "demo-2", "limit": 2}).json()
    assert offsets(newest) == [40.5, 50.5]


def test_the_curve_exports_as_csv_with_a_header(
    recorded: list[dict[str, object]], viewer: httpx.Client
) -> None:
    got = viewer.get(PATH, params={"instance": "demo-2", "format": "csv"})
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/csv")
    assert "equity.csv" in got.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(got.text)))
    assert list(table[0]) == [
        "taken_ts", "ts", "instance", "currency", "balance", "equity", "margin", "margin_free",
        "margin_level", "profit", "positions", "orders",
    ]  # fmt: skip
    assert [float(r["ts"]) - T0 for r in table] == SAMPLED["demo-2"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"instance": ""}, "instance"),
        ({"instance": "X" * 65}, "instance"),
        ({"since": "yesterday"}, "since"),
        ({"until": "soon"}, "until"),
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"format": "xlsx"}, "format"),
    ],
)
def test_a_bad_filter_is_refused_naming_its_field(
    recorded: list[dict[str, object]],
    viewer: httpx.Client,
    params: dict[str, str | int],
    field: str,
) -> None:
    got = viewer.get(PATH, params=params)
    assert got.status_code == 422, got.text
    assert got.json()["field"] == field
    assert got.json()["error"].startswith(f"{field}: ")


def test_an_empty_time_range_is_refused(
    recorded: list[dict[str, object]], viewer: httpx.Client
) -> None:
    got = viewer.get(PATH, params={"since": iso(T0 + 60), "until": iso(T0 + 60)})
    assert got.status_code == 422, got.text
    assert got.json()["detail"] == {
        "error": "until: must be after since",
        "field": "until",
        "reason": "invalid",
    }


def test_before_anything_is_recorded_it_is_empty(
    console: Served, viewer: httpx.Client, tmp_path: Path
) -> None:
    assert viewer.get(PATH).json() == []  # no file yet
    DuckDbStore(tmp_path / "eaflow.duckdb").open()  # the results table, no account_states
    got = viewer.get(PATH, params={"instance": "demo-1"})
    assert got.status_code == 200, got.text
    assert got.json() == []


def test_viewers_read_it_and_a_request_without_the_token_is_refused(
    recorded: list[dict[str, object]], console: Served
) -> None:
    assert len(httpx.get(f"{console.url}{PATH}", headers=BEARER).json()) == 15
    refused = httpx.get(f"{console.url}{PATH}")
    assert refused.status_code == 401, refused.text


def test_while_a_writer_holds_the_file_it_answers_503_then_reads_again(
    recorded: list[dict[str, object]], viewer: httpx.Client, tmp_path: Path
) -> None:
    holder = LockHolder(tmp_path / "eaflow.duckdb")
    try:
        busy = viewer.get(PATH)
        assert busy.status_code == 503, busy.text
        assert busy.json()["detail"]["field"] == "database"
        assert busy.headers["retry-after"] == "2"
    finally:
        holder.release()
    assert len(viewer.get(PATH).json()) == 15
