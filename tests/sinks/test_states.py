"""The account state sinks on real Redis, DuckDB and chDB: the state sync's `rts` entries
sampled into `account_states`, every balance change kept, nothing lost across a restart."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import redis.asyncio as aioredis

from model import AccountState
from model.topics import Topics
from processors.manager.state_sync import StateSync
from sinks.config import SinkConfig
from sinks.duckdb import DuckDbStore
from sinks.install import install_result_sinks
from sinks.lag import sink_lag
from sinks.states import COLUMNS, StateRows
from tests.sinks.conftest import SAMPLED, T0, LockHolder, state_session
from tests.sinks.test_install import Run, chdb_rows, config, duckdb_rows, failures, until

GROUPS = ("duckdb-states", "clickhouse-states")
ROWS = "SELECT instance, ts - {t0}, balance, equity, positions FROM {table} ORDER BY instance, ts"


@pytest.fixture
async def r(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


def entries(states: list[AccountState]) -> list[tuple[str, Any]]:
    """`rts` entries as the sink reads them: (entry id, decoded JSON)."""
    return [(f"{n + 1}-0", s.model_dump(mode="json")) for n, s in enumerate(states)]


def offsets(batch: pa.Table) -> dict[str, list[float]]:
    found: dict[str, list[float]] = defaultdict(list)
    for instance, ts in zip(batch["instance"].to_pylist(), batch["ts"].to_pylist(), strict=True):
        found[instance].append(round(ts - T0, 3))
    return dict(found)


def test_one_row_per_interval_and_every_balance_change() -> None:
    rows = StateRows(10.0)
    batch = rows(entries(state_session()))
    assert batch.column_names == [c.name for c in COLUMNS]
    assert offsets(batch) == SAMPLED
    first = batch.slice(0, 1).to_pylist()[0]
    assert first == {
        "stream_id": "1-0",
        "ts": T0,
        "instance": "demo-1",
        "login": 7001,
        "currency": "USD",
        "balance": 10_000.0,
        "equity": 10_004.0,
        "margin": 50.0,
        "margin_free": 9_960.0,
        "margin_level": 200.0,
        "profit": -6.0,
        "positions": 0,
        "orders": 0,
    }
    assert rows(entries(state_session())) == batch  # nothing was written: sampled alike
    assert StateRows(0.0)(entries(state_session())).num_rows == 240  # 0: every snapshot


def test_batches_of_any_size_and_failed_batches_sample_alike() -> None:
    every = entries(state_session())
    rows = StateRows(10.0)
    kept: list[str] = []
    start, rng = 0, random.Random(7)
    while start < len(every):
        size = rng.randint(1, 40)
        batch = rows(every[start : start + size])
        if rng.random() < 0.3:  # the store failed: the runtime retries the same entries
            continue
        rows.written(batch)
        kept += batch["stream_id"].to_pylist()
        start += size
    assert kept == StateRows(10.0)(every)["stream_id"].to_pylist()


def test_a_snapshot_delivered_after_newer_ones_is_kept_and_a_bad_entry_is_left_out() -> None:
    every = entries(state_session())
    rows = StateRows(10.0)
    rows.written(rows(every[100:]))  # a dead consumer's first 100 entries, claimed later
    late = rows([("0-1", {"instance": "demo-1"}), *every[:100]])
    assert offsets(late) == {"demo-1": [0, 10, 12.5, 22.5], "demo-2": [0, 10, 20]}


async def publish(redis_url: str, run: Run, states: list[AccountState]) -> None:
    """Write `states` as the executor's state sync does, one poll at a time."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        sync = StateSync(client, Topics(run.app))
        for k in range(0, len(states), 2):
            assert await sync.publish(states[k : k + 2])
    finally:
        await client.aclose()


def states_run(redis_url: str, cfg: SinkConfig) -> Run:
    run = Run(redis_url, cfg)
    install_result_sinks(run.app, run.rtrs, cfg, states=Topics(run.app).rts)
    return run


async def test_account_states_reach_both_databases_sampled(redis_url: str, tmp_path: Path) -> None:
    cfg = config(tmp_path, state_interval=10.0)
    assert cfg.duckdb_path is not None and cfg.clickhouse_url is not None
    path, url = cfg.duckdb_path, cfg.clickhouse_url
    run = states_run(redis_url, cfg)
    await publish(redis_url, run, state_session())
    count = sum(len(s) for s in SAMPLED.values())

    async def both_hold() -> bool:
        try:
            in_chdb = chdb_rows(url, "SELECT count() FROM eaflow.account_states")
        except Exception:  # the sink has not created its table yet
            return False
        in_duckdb = duckdb_rows(path, "SELECT count(*) FROM account_states")
        return in_chdb == in_duckdb == [(count,)]

    await run.app.start()
    try:
        await until(both_hold, f"{count} account states in both databases")
    finally:
        await run.app.stop()
    stored = duckdb_rows(path, ROWS.format(t0=T0, table="account_states"))
    assert stored == chdb_rows(url, ROWS.format(t0=T0, table="eaflow.account_states"))
    found: dict[str, list[float]] = defaultdict(list)
    for instance, offset, *_ in stored:
        found[str(instance)].append(round(float(offset), 3))  # type: ignore[arg-type]
    assert found == SAMPLED
    assert stored[2][:3] == ("demo-1", 12.5, 10_012.5)  # the deal's row, its new balance
    assert duckdb_rows(path, "SELECT version FROM schema_versions") == [(1,)]


async def test_nothing_is_lost_across_a_restart_pending_entries_are_retried(
    redis_url: str, r: aioredis.Redis, tmp_path: Path
) -> None:
    """A dead consumer left 100 entries pending in each group, and the DuckDB file is
    locked: the first run retries, is stopped, more snapshots come; the next run claims
    and writes everything. Every snapshot then has a row of its instance with its balance
    less than 10 s away, and every balance change has its own row."""
    cfg = config(tmp_path, state_interval=10.0)
    assert cfg.duckdb_path is not None and cfg.clickhouse_url is not None
    path, url = cfg.duckdb_path, cfg.clickhouse_url
    states = state_session()
    run = states_run(redis_url, cfg)
    await publish(redis_url, run, states[:160])
    for group in GROUPS:
        await r.xgroup_create("t:rts", group, id="0")
        read: Any = await r.xreadgroup(group, "dead-consumer", {"t:rts": ">"}, count=100)
        assert len(read[0][1]) == 100
    DuckDbStore(path).open()  # the file exists, and another process locks it
    holder = LockHolder(path)
    before = failures("duckdb-states")
    await run.app.start()
    try:

        async def failing() -> bool:
            return failures("duckdb-states") >= before + 2

        await until(failing, "the DuckDB states sink to fail and retry")
        await run.app.stop()
        await publish(redis_url, run, states[160:])
        holder.release()
        run = states_run(redis_url, cfg)
        await run.app.start()

        async def caught_up() -> bool:
            lags = await sink_lag(r, "t:rts", GROUPS)
            return lags == dict.fromkeys(GROUPS, 0)

        await until(caught_up, "both states sinks to ack every entry, claimed ones included")
    finally:
        await run.app.stop()
        holder.release()
    for stored in (
        duckdb_rows(path, ROWS.format(t0=0, table="account_states")),
        chdb_rows(url, ROWS.format(t0=0, table="eaflow.account_states")),
    ):
        rows: dict[object, list[tuple[float, float]]] = defaultdict(list)
        for instance, ts, balance, *_ in stored:
            rows[instance].append((float(ts), float(balance)))  # type: ignore[arg-type]
        previous: dict[str, float] = {}
        for state in states:
            near = [b for ts, b in rows[state.instance] if abs(ts - state.ts) < 10.0]
            assert state.balance in near, (state.instance, state.ts - T0)
            if previous.get(state.instance, state.balance) != state.balance:
                assert (state.ts, state.balance) in rows[state.instance]
            previous[state.instance] = state.balance
        assert len(stored) < len(states) / 5  # sampled, not every snapshot
