"""Router's in-memory view: instances, symbols and balances, refreshed without waste."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest
import redis.asyncio as aioredis

from brokers.mt5.records import SymbolInfo
from model import InstanceSpec, Order, OrderStatus, Result
from model.tick import encode_tick
from model.topics import Topics
from processors.registry import InstanceRegistry
from processors.router.agent import Router
from streams import App, AppSettings, Event, Outbox
from tests.stubs import EURUSD_TICK

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


async def routed(router: Router, signal: dict[str, str]) -> list[Order | Result]:
    """The orders and results the router's handler writes for one rtss entry."""
    raw = orjson.dumps(signal)
    topic = router.topics.rtss
    out = Outbox()
    await router.handle(Event(topic.decode(raw), "1-0", f"{PREFIX}rtss", topic, raw), out)
    written: list[Order | Result] = []
    for command in out.commands:
        if command[0] == "ONCE":  # the guard of a result (tested through the commit)
            continue
        assert command[0] == "XADD"
        data = command[-1]
        assert isinstance(data, bytes)
        model = Result if str(command[1]) == f"{PREFIX}rtrs" else Order
        written.append(model.model_validate_json(data))
    return written


async def test_symbols_published_since_the_last_refresh_are_read_before_a_refusal(
    router: Router, eurusd: SymbolInfo
) -> None:
    """An executor that starts publishes its symbols up to 500 ms before the router's timer
    reads them; a signal in between is routed, not refused for an unknown symbol."""
    await router.redis.xadd(f"{PREFIX}ticks:EURUSD", {"d": encode_tick(EURUSD_TICK)})
    await router.refresh()  # nothing published yet
    await router.registry.publish_symbols("a", [eurusd])
    signal = {"order_id": "early", "symbol": "EURUSD", "order_type": "buy", "volume": "0.01"}
    [order] = await routed(router, signal)
    assert isinstance(order, Order) and order.instance == "a"
    [refused] = await routed(router, {**signal, "order_id": "nope", "symbol": "GBPUSD"})
    assert isinstance(refused, Result) and refused.status is OrderStatus.REJECTED
    assert refused.field == "instances", refused.error  # no publication: refused as before
