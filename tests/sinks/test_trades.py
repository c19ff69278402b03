"""The trades sinks on real Redis, DuckDB and chDB: every entry of `trades` once in each."""

from __future__ import annotations

from pathlib import Path

from model.trade import TradeState
from sinks.install import install_result_sinks
from sinks.trades import COLUMNS, trades_table
from streams import ModelCodec, Topic
from tests.sinks.conftest import T0, trade, trade_session
from tests.sinks.test_install import Run, chdb_rows, config, duckdb_rows, until


def test_a_batch_keeps_the_first_entry_of_each_state() -> None:
    entries = trade(1)
    batch = trades_table([(f"{n}-0", e) for n, e in enumerate([*entries, entries[0]])])
    assert batch.column_names == [c.name for c in COLUMNS]
    assert batch.column("state_id").to_pylist() == [e.state_id for e in entries]
    assert batch.column("stream_id").to_pylist() == ["0-0", "1-0", "2-0", "3-0"]
    assert batch.column("status").to_pylist() == ["OPEN", "OPEN", "OPEN", "CLOSED"]
    assert batch.column("stop_loss").to_pylist() == [1.12, 1.1225, 1.1225, 1.1225]
    assert batch.column("closed_at").to_pylist() == [None, None, None, T0 + 90]


async def test_trade_states_reach_both_databases_exactly_once(
    redis_url: str, tmp_path: Path
) -> None:
    cfg = config(tmp_path)
    run = Run(redis_url, cfg)
    trades: Topic[TradeState] = run.app.topic("trades", codec=ModelCodec(TradeState))
    sinks = install_result_sinks(run.app, run.rtrs, cfg, trades=trades)
    assert {s.name for s in sinks} >= {"duckdb-trades", "clickhouse-trades"}
    entries = trade_session()
    await run.app.send_many(trades, entries)
    await run.app.send_many(trades, entries[:5])  # a poll written twice (a retried round trip)
    assert cfg.duckdb_path is not None and cfg.clickhouse_url is not None
    path, url = cfg.duckdb_path, cfg.clickhouse_url

    async def both_hold() -> bool:
        try:
            in_chdb = chdb_rows(url, "SELECT count() FROM eaflow.trades")
        except Exception:  # the sink has not created its table yet
            return False
        return in_chdb == [(len(entries),)] and duckdb_rows(
            path, "SELECT count(*) FROM trades"
        ) == [(len(entries),)]

    await run.app.start()
    try:
        await until(both_hold, f"{len(entries)} trade states in both databases")
    finally:
        await run.app.stop()
    closed = "SELECT trade_id, profit, commission, swap FROM {} WHERE status = 'CLOSED' "
    in_duckdb = duckdb_rows(path, closed.format("trades") + "ORDER BY trade_id")
    assert in_duckdb == chdb_rows(url, closed.format("eaflow.trades") + "ORDER BY trade_id")
    assert in_duckdb[0] == (5000, 6.0, -1.4, -0.25)
    assert len(in_duckdb) == 10
