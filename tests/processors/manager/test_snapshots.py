"""Trade state snapshots into DuckDB, directly and from a running orders worker."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import duckdb
import redis.asyncio as aioredis

from eaflow.demo import seed_demo
from eaflow.install.pipeline import build_pipeline
from eaflow.install.workers import install
from eaflow.settings import Settings
from model import AccountState, PositionState
from model.topics import Topics
from processors.manager.snapshots import StateArchive, archive_states
from sinks.database import database_path
from streams import App, AppSettings


def account(instance: str, equity: float, ts: float) -> AccountState:
    position = PositionState(
        ticket=1,
        symbol="EURUSD",
        type=0,
        volume=0.1,
        price_open=1.38755,
        sl=0.0,
        tp=0.0,
        price_current=1.38742,
        profit=-1.3,
        magic=1,
        comment="",
    )
    return AccountState(
        instance=instance,
        login=9,
        currency="USD",
        balance=1000.0,
        equity=equity,
        margin=27.75,
        margin_free=equity - 27.75,
        margin_level=equity / 27.75 * 100,
        profit=equity - 1000.0,
        positions=(position,),
        ts=ts,
    )


def rows(path: Path) -> list[tuple[object, ...]]:
    db = duckdb.connect(str(path), read_only=True)
    try:
        return db.execute(
            "SELECT instance, equity, positions, orders, state FROM state_snapshots "
            "ORDER BY taken_at, instance"
        ).fetchall()
    finally:
        db.close()


async def test_latest_states_are_copied_from_redis(redis_url: str, tmp_path: Path) -> None:
    client = aioredis.Redis.from_url(redis_url)
    topics = Topics(App(AppSettings(redis_url=redis_url, prefix="ea:")))
    now = time.time()
    await client.set(topics.keys.state("a"), account("a", 998.7, now).model_dump_json())
    await client.set(topics.keys.state("b"), account("b", 1001.0, now - 600).model_dump_json())
    await client.set(topics.keys.state("c"), b"{not json")
    archive = StateArchive(tmp_path / "eaflow.duckdb")
    written = await archive_states(client, topics, ["a", "b", "c", "d"], archive, max_age=60)
    await client.aclose()
    assert written == 1  # b is stale, c unreadable, d has no state
    [(instance, equity, positions, orders, state)] = rows(tmp_path / "eaflow.duckdb")
    assert (instance, equity, positions, orders) == ("a", 998.7, 1, 0)
    assert AccountState.model_validate_json(str(state)) == account("a", 998.7, now)


async def test_a_worker_snapshots_its_instances_at_the_configured_interval(
    redis_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        redis_url=redis_url, data_dir=tmp_path, state_snapshot_interval=0.3, sync_interval=0.1
    )
    pipeline = build_pipeline(settings, redis_url)
    await seed_demo(pipeline.registry, redis_url, settings.prefix, 2)
    await install(pipeline, ["orders"])
    await pipeline.app.start()
    path = database_path(tmp_path)
    try:
        for _ in range(100):
            await asyncio.sleep(0.1)
            if path.exists():
                found = await asyncio.to_thread(_count, path)
                if found >= 4:
                    break
    finally:
        await pipeline.app.stop()
        await pipeline.close()
    snapshots = rows(path)
    assert len(snapshots) >= 4
    assert {s[0] for s in snapshots} == {"demo-1", "demo-2"}
    assert {s[1] for s in snapshots} == {10_000.0}


def _count(path: Path) -> int:
    try:
        db = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return 0  # the worker is writing right now
    try:
        return int(db.execute("SELECT count(*) FROM state_snapshots").fetchall()[0][0])
    except duckdb.CatalogException:
        return 0
    finally:
        db.close()
