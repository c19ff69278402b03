"""The console's result log and realised P&L, read over HTTP from a DuckDB file the real
sink code wrote."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from model import Result
from model.trade import TradeState
from sinks.batch import results_table
from sinks.duckdb import DuckDbStore
from sinks.trades import TRADES, trades_table
from tests.eaflow.gateway.served import BEARER, Served
from tests.sinks.conftest import T0, LockHolder, fill, rejection, trade_session


def session() -> list[Result]:
    """Thirty fills on three instances, two symbols and two strategies, and three refusals."""
    fills = [
        fill(
            n,
            instance=f"demo-{n % 3 + 1}",
            symbol="EURUSD" if n % 2 else "XAUUSD",
            done_at=T0 + n * 60,
            strategy="trend" if n % 5 else None,
        )
        for n in range(30)
    ]
    return fills + [rejection(100 + n) for n in range(3)]


@pytest.fixture
def recorded(console: Served, tmp_path: Path) -> Served:
    """The console's gateway over a DuckDB file holding session() and trade_session()."""
    path = tmp_path / "eaflow.duckdb"
    for table, batch in (
        (None, results_table((f"{n + 1}-0", r) for n, r in enumerate(session()))),
        (TRADES, trades_table((f"{n + 1}-0", t) for n, t in enumerate(trade_session()))),
    ):
        store = DuckDbStore(path) if table is None else DuckDbStore(path, table)
        store.write(batch)
        store.close()  # the sink closes the file when idle: readers get their turn
    return console


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


def test_the_log_is_newest_first_and_each_filter_narrows_it(
    recorded: Served, viewer: httpx.Client
) -> None:
    everything = viewer.get("/console/api/results")
    assert everything.status_code == 200, everything.text
    rows = everything.json()
    assert len(rows) == 33
    assert [r["done_ts"] for r in rows] == sorted((r["done_ts"] for r in rows), reverse=True)
    fills = [r for r in session() if r.status == "filled"]
    for params, expected in (
        ({"instance": "demo-2"}, {r.order_id for r in fills if r.instance == "demo-2"}),
        ({"symbol": "XAUUSD"}, {r.order_id for r in fills if r.symbol == "XAUUSD"}),
        ({"status": "rejected"}, {"r100", "r101", "r102"}),
        ({"source": "api"}, {"r100", "r101", "r102"}),
        ({"strategy": "trend"}, {r.order_id for r in fills if r.strategy == "trend"}),
        (
            {"instance": "demo-1", "strategy": "trend", "symbol": "EURUSD"},
            {
                r.order_id
                for r in fills
                if (r.instance, r.strategy, r.symbol) == ("demo-1", "trend", "EURUSD")
            },
        ),
        (
            {"since": iso(T0 + 10 * 60), "until": iso(T0 + 20 * 60), "status": "filled"},
            {f"o{n}" for n in range(10, 20)},
        ),
    ):
        got = viewer.get("/console/api/results", params=params)
        assert got.status_code == 200, (params, got.text)
        assert {r["order_id"] for r in got.json()} == expected, params
        assert expected
    limited = viewer.get("/console/api/results", params={"limit": 5}).json()
    assert [r["order_id"] for r in limited] == [r["order_id"] for r in rows[:5]]


def test_the_log_exports_as_csv_with_a_header(recorded: Served, viewer: httpx.Client) -> None:
    got = viewer.get("/console/api/results", params={"instance": "demo-3", "format": "csv"})
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/csv")
    assert "results.csv" in got.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(got.text)))
    as_json = viewer.get("/console/api/results", params={"instance": "demo-3"}).json()
    assert [r["order_id"] for r in table] == [r["order_id"] for r in as_json]
    assert len(table) == 10
    assert {r["instance"] for r in table} == {"demo-3"}
    assert {float(r["volume"]) for r in table} == {0.1}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "won"}, "status"),
        ({"instance": ""}, "instance"),
        ({"symbol": "X" * 65}, "symbol"),
        ({"since": "yesterday"}, "since"),
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"format": "xlsx"}, "format"),
    ],
)
def test_a_bad_filter_is_refused_naming_its_field(
    recorded: Served, viewer: httpx.Client, params: dict[str, str | int], field: str
) -> None:
    got = viewer.get("/console/api/results", params=params)
    assert got.status_code == 422, got.text
    assert got.json()["field"] == field
    assert got.json()["error"].startswith(f"{field}: ")


def test_an_empty_time_range_is_refused(recorded: Served, viewer: httpx.Client) -> None:
    for path in ("/console/api/results", "/console/api/pnl", "/console/api/pnl/curve"):
        got = viewer.get(path, params={"since": iso(T0 + 60), "until": iso(T0)})
        assert got.status_code == 422, got.text
        assert got.json()["detail"] == {
            "error": "until: must be after since",
            "field": "until",
            "reason": "invalid",
        }


def test_realised_pnl_by_day_instance_and_strategy(recorded: Served, viewer: httpx.Client) -> None:
    expected: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for t in trade_session():
        if t.status == "CLOSED" and t.closed_at is not None:
            day = datetime.fromtimestamp(t.closed_at, UTC).date().isoformat()
            key = (day, t.instance, t.strategy or "")
            expected[key][0] += 1
            expected[key][1] += t.profit + t.commission + t.swap + t.fee
    got = viewer.get("/console/api/pnl")
    assert got.status_code == 200, got.text
    rows = got.json()
    assert len(rows) == len(expected) > 3
    for row in rows:
        count, net = expected[(row["day"], row["instance"], row["strategy"])]
        assert row["trades"] == count
        assert row["net"] == pytest.approx(net)
    scalp = viewer.get("/console/api/pnl", params={"instance": "demo-2", "strategy": "scalp"})
    assert {(r["instance"], r["strategy"]) for r in scalp.json()} == {("demo-2", "scalp")}
    exported = viewer.get("/console/api/pnl", params={"format": "csv"})
    header = exported.text.splitlines()[0]
    assert header == "day,instance,strategy,trades,gross,costs,net"
    assert len(exported.text.splitlines()) == len(rows) + 1


def closed_trades() -> list[TradeState]:
    return [t for t in trade_session() if t.status == "CLOSED"]


def test_the_curve_sums_each_instances_closed_trades_in_closing_order(
    recorded: Served, viewer: httpx.Client
) -> None:
    got = viewer.get("/console/api/pnl/curve")
    assert got.status_code == 200, got.text
    rows = got.json()
    closed = sorted(closed_trades(), key=lambda t: t.closed_at or 0)
    assert [(r["instance"], r["trade_id"]) for r in rows] == [
        (t.instance, t.trade_id) for t in closed
    ]
    running: dict[str, float] = defaultdict(float)
    for row, t in zip(rows, closed, strict=True):
        net = t.profit + t.commission + t.swap + t.fee
        running[t.instance] += net
        assert row["net"] == pytest.approx(net)
        assert row["cumulative"] == pytest.approx(running[t.instance])
        assert row["closed_at"] == t.closed_at
        assert row["closed_ts"] == iso(t.closed_at or 0).removesuffix("+00:00")
        assert (row["symbol"], row["strategy"]) == (t.symbol, t.strategy or "")
    by_day = viewer.get("/console/api/pnl").json()
    for instance, total in running.items():  # the curve ends where the P&L table's sum does
        assert total == pytest.approx(sum(r["net"] for r in by_day if r["instance"] == instance))


def test_the_curve_of_one_instance_keeps_its_newest_trades_and_exports_as_csv(
    recorded: Served, viewer: httpx.Client
) -> None:
    mine = [t for t in closed_trades() if t.instance == "demo-2"]
    whole = viewer.get("/console/api/pnl/curve", params={"instance": "demo-2"}).json()
    assert [r["trade_id"] for r in whole] == [t.trade_id for t in mine]
    assert {r["instance"] for r in whole} == {"demo-2"}
    newest = viewer.get("/console/api/pnl/curve", params={"instance": "demo-2", "limit": 2})
    assert newest.json() == whole[-2:]  # the running sum still counts the older trades
    since = viewer.get(
        "/console/api/pnl/curve",
        params={"instance": "demo-2", "since": iso((mine[1].closed_at or 0) - 1)},
    ).json()
    assert [r["trade_id"] for r in since] == [t.trade_id for t in mine[1:]]
    assert since[0]["cumulative"] == pytest.approx(since[0]["net"])  # summed from `since`
    exported = viewer.get("/console/api/pnl/curve", params={"instance": "demo-2", "format": "csv"})
    assert "pnl_curve.csv" in exported.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert [int(r["trade_id"]) for r in table] == [r["trade_id"] for r in whole]
    assert list(table[0]) == [
        "closed_ts", "closed_at", "instance", "trade_id", "symbol", "strategy", "net",
        "cumulative",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("params", "field"),
    [({"instance": ""}, "instance"), ({"limit": 0}, "limit"), ({"until": "soon"}, "until")],
)
def test_a_bad_curve_filter_is_refused_naming_its_field(
    recorded: Served, viewer: httpx.Client, params: dict[str, str | int], field: str
) -> None:
    got = viewer.get("/console/api/pnl/curve", params=params)
    assert got.status_code == 422, got.text
    assert got.json()["field"] == field


def test_viewers_read_and_a_request_without_the_token_is_refused(recorded: Served) -> None:
    for path in ("/console/api/results", "/console/api/pnl", "/console/api/pnl/curve"):
        assert httpx.get(f"{recorded.url}{path}", headers=BEARER).status_code == 200
        refused = httpx.get(f"{recorded.url}{path}")
        assert refused.status_code == 401, refused.text
        assert recorded.security_events()[-1]["kind"] == "viewer"


def test_before_anything_is_recorded_all_are_empty(console: Served, viewer: httpx.Client) -> None:
    for path in ("/console/api/results", "/console/api/pnl", "/console/api/pnl/curve"):
        got = viewer.get(path)
        assert got.status_code == 200, got.text
        assert got.json() == []


def test_trades_without_results_yet_leave_the_log_empty(
    console: Served, viewer: httpx.Client, tmp_path: Path
) -> None:
    store = DuckDbStore(tmp_path / "eaflow.duckdb", TRADES)
    store.write(trades_table((f"{n + 1}-0", t) for n, t in enumerate(trade_session())))
    store.close()
    got = viewer.get("/console/api/results")
    assert got.status_code == 200, got.text
    assert got.json() == []
    assert len(viewer.get("/console/api/pnl/curve").json()) == len(closed_trades())


def test_while_a_writer_holds_the_file_the_log_answers_503_then_reads_again(
    recorded: Served, viewer: httpx.Client, tmp_path: Path
) -> None:
    holder = LockHolder(tmp_path / "eaflow.duckdb")
    try:
        busy = viewer.get("/console/api/results")
        assert busy.status_code == 503, busy.text
        assert busy.json()["detail"]["field"] == "database"
        assert busy.json()["detail"]["error"] == "database: held by a writer, retry shortly"
        assert busy.headers["retry-after"] == "2"
    finally:
        holder.release()
    assert len(viewer.get("/console/api/results").json()) == 33
