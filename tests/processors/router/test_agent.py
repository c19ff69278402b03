"""Router's in-memory view: instances, symbols and balances, refreshed without waste."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest
import redis.asyncio as aioredis

from brokers.mt5.records import SymbolInfo
from eaflow.instances import InstanceRegistry
from eaflow.models import InstanceSpec
from processors.router.agent import Router
from processors.topics import Topics
from streams import App, AppSettings

PREFIX = "ea:"


@pytest.fixture
async def router(redis_url: str) -> AsyncIterator[Router]:
    app = App(AppSettings(redis_url=redis_url, prefix=PREFIX, name="test"))
    client = aioredis.Redis.from_url(redis_url)
    registry = InstanceRegistry(client, PREFIX)
    await registry.put(
        InstanceSpec(instance_id="a", broker="sim://", login=1),
        InstanceSpec(instance_id="b", broker="sim://", login=2),
    )
    yield Router(Topics(app), registry, client)
    await client.aclose()
    await app.redis.aclose()


async def test_symbols_are_read_again_only_after_a_new_publication(
    router: Router, eurusd: SymbolInfo
) -> None:
    registry = router.registry
    await registry.publish_symbols("a", [eurusd])
    await router.refresh()
    assert router.symbols == {"a": {"EURUSD": eurusd}, "b": {}}
    wider = eurusd._replace(volume_max=1.0)
    key = f"{PREFIX}symbols:a"
    await router.redis.hset(key, "EURUSD", orjson.dumps(wider._asdict()))  # not published
    await router.refresh()
    assert router.symbols["a"]["EURUSD"] == eurusd  # nothing re-read on every refresh
    await registry.publish_symbols("b", [wider])
    await router.refresh()
    assert router.symbols == {"a": {"EURUSD": wider}, "b": {"EURUSD": wider}}


async def test_a_new_instance_gets_its_symbols_without_a_publication(
    router: Router, eurusd: SymbolInfo
) -> None:
    await router.registry.publish_symbols("a", [eurusd])
    await router.refresh()
    await router.redis.hset(f"{PREFIX}symbols:c", "EURUSD", orjson.dumps(eurusd._asdict()))
    await router.registry.put(InstanceSpec(instance_id="c", broker="sim://", login=3))
    await router.refresh()
    assert router.symbols["c"] == {"EURUSD": eurusd}
