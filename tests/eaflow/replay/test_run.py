"""Dry runs reproduce a recorded session on fresh simulated accounts, show what a changed
configuration changes, and leave live streams and accounts as they were."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aioredis

from eaflow.replay.diff import summary
from eaflow.replay.run import copy_into, dry_run
from processors.registry import InstanceRegistry
from tests.e2e.conftest import PREFIX, terminal
from tests.eaflow.replay.recording import RESULTS, SIGNALS, record


def live_lengths(client: redis.Redis) -> dict[str, int]:
    keys: Any = client.keys(f"{PREFIX}*")
    return {k.decode(): int(client.xlen(k)) for k in keys if client.type(k) == b"stream"}


async def test_a_recorded_range_is_reproduced_without_touching_live_state(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    recorded = await record(redis_url, tmp_path)
    assert len(recorded) == RESULTS
    lengths = live_lengths(redis_client)
    positions = [len(terminal(redis_url, n).positions_get() or ()) for n in (1, 2)]
    progress: list[tuple[int, int]] = []
    report = await dry_run(
        redis_url,
        PREFIX,
        "rtss",
        "-",
        "+",
        limit=1000,
        data_dir=tmp_path,
        progress=lambda done, total: progress.append((done, total)),
    )
    assert report.entries == len(SIGNALS)
    assert report.instances == ["demo-1", "demo-2"]
    assert report.errors == []
    assert summary(report.rows) == {
        "same": RESULTS,
        "changed": 0,
        "price": 0,
        "new": 0,
        "missing": 0,
    }
    assert [row.result_id for row in report.rows] == [r.result_id for r in recorded]
    assert progress[-1] == (len(SIGNALS), len(SIGNALS))
    assert live_lengths(redis_client) == lengths
    assert [len(terminal(redis_url, n).positions_get() or ()) for n in (1, 2)] == positions
    assert redis_client.keys(f"{report.sandbox}*") == []


async def test_a_changed_configuration_shows_in_the_diff(redis_url: str, tmp_path: Path) -> None:
    await record(redis_url, tmp_path)
    client = aioredis.Redis.from_url(redis_url)
    registry = InstanceRegistry(client, PREFIX)
    specs = await registry.all()
    changes: dict[str, dict[str, Any]] = {
        "demo-1": {"allowed_symbols": ("EURUSD",)},
        "demo-2": {"max_open_orders": 1},
    }
    await registry.put(
        *(
            specs[i].model_copy(update={"config": specs[i].config.model_copy(update=change)})
            for i, change in changes.items()
        )
    )
    await client.aclose()
    report = await dry_run(redis_url, PREFIX, "rtss", "-", "+", limit=1000, data_dir=tmp_path)
    differing = {row.result_id: row for row in report.rows if row.verdict != "same"}
    assert sorted(differing) == ["s4@demo-1", "s4@demo-2"]
    assert differing["s4@demo-1"].verdict == "missing"  # demo-1 no longer trades NZDUSD
    assert differing["s4@demo-2"].verdict == "changed"  # its second open: over the limit
    assert differing["s4@demo-2"].changes["status"] == ("filled", "rejected")
    assert differing["s4@demo-2"].changes["field"] == (None, "max_open_orders")
    assert summary(report.rows) == {
        "same": RESULTS - 2,
        "changed": 1,
        "price": 0,
        "new": 0,
        "missing": 1,
    }


async def test_a_range_by_ids_replays_only_its_entries(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    await record(redis_url, tmp_path)
    ids: Any = redis_client.xrange(f"{PREFIX}rtss")
    first, last = ids[1][0].decode(), ids[2][0].decode()
    report = await dry_run(redis_url, PREFIX, "rtss", first, last, limit=1000, data_dir=tmp_path)
    assert report.entries == 2
    assert [row.result_id for row in report.rows] == ["s2@demo-2", "s3@demo-1"]
    assert {row.verdict for row in report.rows} == {"same"}


async def test_results_trimmed_from_rtrs_are_found_in_duckdb(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    from sinks.batch import results_table
    from sinks.duckdb import DuckDbStore

    recorded = await record(redis_url, tmp_path)
    entries: Any = redis_client.xrange(f"{PREFIX}rtrs")
    store = DuckDbStore(tmp_path / "eaflow.duckdb")
    store.write(results_table((e[0].decode(), r) for e, r in zip(entries, recorded, strict=True)))
    store.close()
    redis_client.delete(f"{PREFIX}rtrs")
    report = await dry_run(redis_url, PREFIX, "rtss", "-", "+", limit=1000, data_dir=tmp_path)
    assert report.recorded_in == {"rtrs": 0, "duckdb": RESULTS}
    assert summary(report.rows)["same"] == RESULTS


async def test_copy_into_a_debug_stream(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    await record(redis_url, tmp_path)
    ids = await copy_into(redis_url, PREFIX, "rtss", "-", "+", "debug:rtss", limit=1000)
    copied: Any = redis_client.xrange(f"{PREFIX}debug:rtss")
    original: Any = redis_client.xrange(f"{PREFIX}rtss")
    assert [c[0].decode() for c in copied] == ids
    assert [c[1][b"d"] for c in copied] == [o[1][b"d"] for o in original]
    assert copied[0][1][b"replayed_from"] == f"rtss {original[0][0].decode()}".encode()
