"""The sandbox's copies of the live instances: a simulated instance keeps its broker's URL,
so a `sim://?suffix=.m` account replays on the names its broker gives its symbols."""

from __future__ import annotations

import redis.asyncio as aioredis

from eaflow.replay.sandbox import Sandbox
from model import InstanceSpec
from processors.registry import InstanceRegistry
from tests.e2e.conftest import PREFIX


async def test_a_simulated_instance_keeps_its_symbol_names(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    live = InstanceRegistry(client, PREFIX)
    await live.put(
        InstanceSpec(instance_id="m", broker="sim://?suffix=.m", login=5_100_001),
        InstanceSpec(instance_id="real", broker="mt5://?server=X", login=5_100_002),
    )
    sandbox = Sandbox(redis_url, PREFIX)
    try:
        assert await sandbox.prepare(live) == ["m", "real"]
        copies = await sandbox.registry.all()
        assert (copies["m"].broker, copies["real"].broker) == ("sim://?suffix=.m", "sim://")
        assert "EURUSD.m" in await sandbox.registry.symbols("m")
        assert "EURUSD" in await sandbox.registry.symbols("real")
    finally:
        await sandbox.close()
        await client.aclose()
