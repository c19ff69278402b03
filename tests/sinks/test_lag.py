"""Sink lag: results each rtrs group has not written, as a gauge and in `eaflow status`."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from prometheus_client import REGISTRY

from sinks.lag import sink_lag, sink_status
from streams.inspect import stream_status
from tests.e2e.workers import eaflow


async def groups_behind(client: aioredis.Redis) -> list[str]:
    """ea:rtrs with 10 results: `duckdb` wrote all, `clickhouse` holds 3 pending and 4
    unread; `slow` has read nothing."""
    ids: list[Any] = [
        await client.xadd("ea:rtrs", {"d": b"{}"}, id=f"{1000 + n}-0") for n in range(10)
    ]
    await client.xgroup_create("ea:rtrs", "duckdb", id="0")
    read: Any = await client.xreadgroup("duckdb", "c", {"ea:rtrs": ">"})
    await client.xack("ea:rtrs", "duckdb", *[entry_id for entry_id, _ in read[0][1]])
    await client.xgroup_create("ea:rtrs", "clickhouse", id="0")
    await client.xreadgroup("clickhouse", "c", {"ea:rtrs": ">"}, count=6)
    await client.xack("ea:rtrs", "clickhouse", *ids[:3])
    await client.xgroup_create("ea:rtrs", "slow", id="0")
    return [i.decode() for i in ids]


async def test_lag_counts_unread_and_unacked_results(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    await groups_behind(client)
    lags = await sink_lag(client, "ea:rtrs", ["duckdb", "absent"])
    assert lags == {"duckdb": 0, "clickhouse": 7, "slow": 10, "absent": 10}
    assert REGISTRY.get_sample_value("eaflow_sink_lag", {"sink": "clickhouse"}) == 7
    (rtrs,) = [s for s in await stream_status(client, "ea:") if s.name == "rtrs"]
    found = {s.name: s for s in await sink_status(client, rtrs.key, rtrs.groups)}
    assert (found["duckdb"].unwritten, found["duckdb"].oldest_age) == (0, None)
    assert found["clickhouse"].unwritten == 7
    assert found["slow"].unwritten == 10
    # ids are milliseconds since 1970: the oldest unwritten results have waited for decades
    assert found["clickhouse"].oldest_age is not None and found["clickhouse"].oldest_age > 1e9
    await client.aclose()


async def test_eaflow_status_shows_the_sinks(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    await groups_behind(client)
    await client.aclose()
    shown = eaflow("status", "--redis", redis_url, env={"COLUMNS": "200"})
    assert shown.returncode == 0, shown.stderr
    lines = [line for line in shown.stdout.splitlines() if "clickhouse" in line]
    assert any("│ 7 " in line and " s " in line for line in lines), shown.stdout
    assert any(line.startswith("│ clickhouse ") and "│ sink " in line for line in lines)
    [slow] = [line for line in shown.stdout.splitlines() if line.startswith("│ slow ")]
    assert "│ unknown: no installed plugin has this group " in slow, shown.stdout
    assert "unread results" in shown.stdout
