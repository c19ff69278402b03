"""Every query in docs/analytics.md runs on DuckDB and on chDB over the same results, trades
and account states, and gives the same answers there (so the documentation cannot rot)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from model import Result
from sinks.batch import results_table
from sinks.clickhouse import ClickHouseStore, chdb_url, connect
from sinks.duckdb import DuckDbStore
from sinks.states import STATES, StateRows
from sinks.trades import TRADES, trades_table
from tests.sinks.conftest import SAMPLED, T0, fill, rejection, state_session, trade_session

DOC = Path(__file__).parents[2] / "docs" / "analytics.md"
BLOCK = re.compile(r"```sql\n(.*?)```", re.DOTALL)


def documented() -> list[tuple[str, str]]:
    """(engine, sql) for each sql block: `duckdb`, `clickhouse` or `both`."""
    queries = []
    for sql in BLOCK.findall(DOC.read_text()):
        first = sql.splitlines()[0].strip()
        engine = first.removeprefix("-- ") if first in ("-- duckdb", "-- clickhouse") else "both"
        queries.append((engine, sql))
    return queries


def session() -> list[Result]:
    """Two hours of trading on three instances: fills with slippage, refusals, a failure."""
    results = [
        fill(
            n,
            instance=f"demo-{n % 3 + 1}",
            symbol="EURUSD" if n % 4 else "XAUUSD",
            done_at=T0 + n * 120 + 0.001 * (n % 7 + 1),
            strategy=("trend", "scalp", None)[n % 5 % 3],
            comment=f"entry {n}" if n % 2 else None,
        )
        for n in range(60)
    ]
    results += [rejection(100 + n) for n in range(5)]
    results += [rejection(200 + n, field="stop_loss", rule="too close") for n in range(2)]
    results.append(
        fill(
            300,
            status="failed",
            retcode=10031,
            retcode_name="TRADE_RETCODE_CONNECTION",
            price=None,
            error="no connection",
        )
    )
    return results


def recorded_states() -> pa.Table:
    """state_session() as the state sinks record it, every 10 s and each balance change."""
    return StateRows(10.0)(
        (f"{n + 1}-0", s.model_dump(mode="json")) for n, s in enumerate(state_session())
    )


def normal(value: object) -> object:
    if isinstance(value, (Decimal, float, np.floating)):
        return round(float(value), 9)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    return value


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    where = tmp_path_factory.mktemp("analytics")
    batch = results_table((f"{n + 1}-0", r) for n, r in enumerate(session()))
    trades = trades_table((f"{n + 1}-0", t) for n, t in enumerate(trade_session()))
    for store in (DuckDbStore(where / "eaflow.duckdb"), ClickHouseStore(chdb_url(where))):
        store.write(batch)
        store.close()
    for store in (
        DuckDbStore(where / "eaflow.duckdb", TRADES),
        ClickHouseStore(chdb_url(where), table=TRADES),
    ):
        store.write(trades)
        store.close()
    for store in (
        DuckDbStore(where / "eaflow.duckdb", STATES),
        ClickHouseStore(chdb_url(where), table=STATES),
    ):
        store.write(recorded_states())
        store.close()
    return where / "eaflow.duckdb", chdb_url(where)


def run(databases: tuple[Path, str], engine: str, sql: str) -> list[tuple[object, ...]]:
    path, url = databases
    if engine == "duckdb":
        con = duckdb.connect(str(path), read_only=True)
        try:
            rows = con.execute(sql).fetchall()
        finally:
            con.close()
    else:
        client = connect(f"{url}?database=eaflow")
        try:
            rows = list(client.query(sql).result_rows)
        finally:
            client.close()
    return [tuple(normal(v) for v in row) for row in rows]


def test_the_document_has_the_queries_users_want() -> None:
    text = DOC.read_text()
    for title in (
        "Fills per instance",
        "Rejection reasons",
        "Slippage",
        "Latency percentiles",
        "Realised P&L per instance",
        "Realised P&L per strategy",
    ):
        assert f"### {title}" in text
    assert len(documented()) >= 11


@pytest.mark.parametrize(("engine", "sql"), documented())
def test_each_query_gives_the_same_answer_on_both_databases(
    databases: tuple[Path, str], engine: str, sql: str
) -> None:
    if engine == "both":
        in_duckdb = run(databases, "duckdb", sql)
        assert in_duckdb, "the query found nothing in the session"
        assert run(databases, "clickhouse", sql) == in_duckdb
    else:
        assert run(databases, engine, sql)


def test_the_answers_are_right(databases: tuple[Path, str]) -> None:
    queries = {sql.split("FROM")[0]: (engine, sql) for engine, sql in documented()}
    results = session()
    fills = [r for r in results if r.status == "filled"]
    per_instance = next(sql for e, sql in queries.values() if "AS lots" in sql)
    expected = sorted(Counter(r.instance for r in fills).items())
    got = run(databases, "clickhouse", per_instance)
    assert [(instance, count) for instance, count, _ in got] == expected
    reasons = next(sql for e, sql in queries.values() if "AS reason" in sql)
    assert run(databases, "duckdb", reasons) == [
        ("volume", 5),
        ("stop_loss", 2),
        ("TRADE_RETCODE_CONNECTION", 1),
    ]
    latencies = np.array([(r.done_at - (r.received_at or 0)) * 1000 for r in fills])
    for engine in ("duckdb", "clickhouse"):
        sql = next(sql for e, sql in queries.values() if e == engine)
        count, p50, p99, worst = run(databases, engine, sql)[0]
        assert count == len(fills)
        assert p50 == pytest.approx(np.percentile(latencies, 50), rel=1e-6)
        assert p99 == pytest.approx(np.percentile(latencies, 99), rel=1e-6)
        assert worst == pytest.approx(latencies.max(), rel=1e-9)
    per_strategy = next(sql for e, sql in queries.values() if "AS strategy" in sql)
    tags = Counter((r.instance, r.strategy or "") for r in fills)
    got = run(databases, "duckdb", per_strategy)
    assert [((i, tag), count) for i, tag, count, _ in got] == sorted(tags.items())


def test_realised_profit_and_loss(databases: tuple[Path, str]) -> None:
    """What the documented P&L queries answer is what the closed trades' deals earned."""
    queries = [sql for _, sql in documented() if "FROM trades" in sql]
    per_instance = next(sql for sql in queries if "AS costs" in sql)
    per_strategy = next(sql for sql in queries if "AS strategy" in sql)
    closed = [t for t in trade_session() if t.status == "CLOSED"]
    assert len(closed) == 10
    net: dict[str, float] = defaultdict(float)
    by_tag: dict[tuple[str, str], float] = defaultdict(float)
    for t in closed:
        net[t.instance] += t.profit + t.commission + t.swap + t.fee
        by_tag[(t.instance, t.strategy or "")] += t.profit + t.commission + t.swap + t.fee
    for engine in ("duckdb", "clickhouse"):
        rows = run(databases, engine, per_instance)
        assert [(i, n) for i, n, _, _, _ in rows] == [
            (i, sum(t.instance == i for t in closed)) for i in sorted(net)
        ]
        assert [net_ for *_, net_ in rows] == pytest.approx([net[i] for i in sorted(net)])
        assert rows[0][2] == pytest.approx(sum(6.0 + 2 * n for n in (0, 3, 6, 9)))
        tagged = run(databases, engine, per_strategy)
        assert [(i, tag) for i, tag, _, _ in tagged] == sorted(by_tag)
        assert [n for *_, n in tagged] == pytest.approx([by_tag[k] for k in sorted(by_tag)])


def test_the_equity_curve_and_the_drawdown(databases: tuple[Path, str]) -> None:
    """The curve is the recorded rows of the instance; the drawdown is the largest fall of
    equity from the highest recorded before it."""
    queries = [sql for _, sql in documented() if "FROM account_states" in sql]
    curve = next(sql for sql in queries if "ORDER BY ts" in sql)
    drawdown = next(sql for sql in queries if "max_drawdown" in sql)
    rows = recorded_states().to_pylist()
    expected: dict[str, tuple[float, float]] = {}
    for instance in SAMPLED:
        equity = [r["equity"] for r in rows if r["instance"] == instance]
        peaks = np.maximum.accumulate(equity)
        expected[instance] = (max(peaks - equity), max((peaks - equity) / peaks))
    for engine in ("duckdb", "clickhouse"):
        got = run(databases, engine, curve)
        offsets = [round(float(ts) - T0, 3) for ts, *_ in got]  # type: ignore[arg-type]
        assert offsets == SAMPLED["demo-1"]
        assert [b for _, b, *_ in got][:3] == [10_000.0, 10_000.0, 10_012.5]
        found = run(databases, engine, drawdown)
        assert [i for i, *_ in found] == sorted(expected)
        for name, worst, ratio in found:
            assert (worst, ratio) == pytest.approx(expected[str(name)])
    # demo-1's equity fell from 10,027 (12.5 s) to 10,016.5 (22.5 s); demo-2's only rose
    assert expected["demo-1"] == pytest.approx((10.5, 10.5 / 10_027))
    assert expected["demo-2"] == (0.0, 0.0)
