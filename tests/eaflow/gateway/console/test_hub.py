"""The overview's one reader: every console gets every row first, then only changed rows;
however many consoles watch, a round reads Redis the same three times."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
import redis
import redis.asyncio as aioredis

from eaflow.gateway.console.hub import OverviewHub
from eaflow.gateway.livehub import LiveRefused, Subscriber
from processors.registry import InstanceRegistry
from tests.eaflow.gateway.console.accounts import KEYS, seed_accounts, snapshot
from tests.eaflow.gateway.served import PREFIX


@pytest.fixture
async def hub(redis_url: str, redis_client: redis.Redis) -> AsyncIterator[OverviewHub]:
    seed_accounts(redis_client)
    client = aioredis.Redis.from_url(redis_url)
    found = OverviewHub(
        InstanceRegistry(client, PREFIX), KEYS, max_streams=3, per_client=2, period=0.05
    )
    yield found
    await found.close()
    await client.aclose()


async def events(sub: Subscriber) -> list[tuple[str, Any]]:
    chunk = await sub.next()
    assert chunk is not None
    found = []
    for block in chunk.decode().strip().split("\n\n"):
        name, data = block.split("\n")
        found.append((name.removeprefix("event: "), orjson.loads(data.removeprefix("data: "))))
    return found


def calls(client: redis.Redis, command: str) -> int:
    stats: Any = client.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


async def test_consoles_share_one_reader_and_get_only_changed_rows(
    hub: OverviewHub, redis_client: redis.Redis
) -> None:
    first, second = hub.subscribe("10.0.0.1"), hub.subscribe("10.0.0.2")
    [(kind, data)] = await events(first)
    assert kind == "snapshot"
    rows = {r["instance"]: r for r in data["rows"]}
    assert {i: r["status"] for i, r in rows.items()} == {
        "demo-1": "running",
        "demo-2": "running",
        "demo-3": "disconnected",
        "demo-4": "sync lost",
        "demo-5": "no report",
    }
    assert (rows["demo-3"]["positions"], rows["demo-3"]["balance"]) == (3, 10_003.0)
    assert rows["demo-1"]["groups"] == ["eu"] and rows["demo-1"]["heartbeat"] > 0
    assert (await events(second))[0][0] == "snapshot"

    redis_client.config_resetstat()
    rounds = hub.rounds
    redis_client.set(KEYS.state("demo-2"), snapshot("demo-2", 2, equity=9_000.0).model_dump_json())
    for sub in (first, second):
        [(kind, data)] = await events(sub)
        assert kind == "rows" and [r["instance"] for r in data["rows"]] == ["demo-2"]
        assert data["rows"][0]["equity"] == 9_000.0
    mgets = calls(redis_client, "mget")  # one a round for both consoles, not one each
    assert 1 <= mgets <= hub.rounds - rounds + 1

    third = hub.subscribe("10.0.0.1")
    assert (await events(third))[0][0] == "snapshot"  # a late console starts with every row
    redis_client.hdel(KEYS.instances, "demo-5")
    [(kind, data)] = await events(first)
    assert (kind, data["removed"]) == ("rows", ["demo-5"])


async def test_limits_per_process_and_per_client(hub: OverviewHub) -> None:
    hub.subscribe("10.0.0.1"), hub.subscribe("10.0.0.1")
    with pytest.raises(LiveRefused, match="at most 2 console streams per client") as per_client:
        hub.subscribe("10.0.0.1")
    assert per_client.value.status == 429
    hub.subscribe("10.0.0.2")
    with pytest.raises(LiveRefused, match="maximum of 3 console streams") as full:
        hub.subscribe("10.0.0.3")
    assert full.value.status == 503
