"""Durable before irreversible (decision 0019): an order is sent only once a replica holds
its `sent` record; while none confirms it, the order waits, unsent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from brokers.mt5.broker import Mt5Broker
from model import InstanceSpec, OrderStatus, Result
from model.topics import Topics
from processors.executor.agent import Executor
from processors.executor.reconcile import Reconciler
from processors.executor.records import OrderRecords
from processors.registry import InstanceRegistry
from streams import App, Defer
from streams.durable import Durability
from tests.redis_server import RedisServer
from tests.streams.conftest import settings, until
from tests.stubs import INSTANCE, LOGIN, MAGIC, PREFIX, make_order

DURABLE = Durability(replicas=1, timeout_ms=1000)  # generous: a loaded machine


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[RedisServer, RedisServer]]:
    """A primary and its replica."""
    primary = RedisServer(tmp_path / "primary").start()
    replica = RedisServer(
        tmp_path / "replica", extra_args=("--replicaof", "127.0.0.1", str(primary.port))
    )
    try:
        replica.start()
        yield primary, replica
    finally:
        replica.stop()
        primary.stop()


@pytest.fixture
async def client(pair: tuple[RedisServer, RedisServer]) -> AsyncIterator[aioredis.Redis]:
    found = aioredis.Redis.from_url(pair[0].url)
    yield found
    await found.aclose()


async def replicated(client: aioredis.Redis) -> bool:
    return int(await client.wait(1, 50)) == 1


async def test_a_sent_record_no_replica_confirms_defers_its_order(
    pair: tuple[RedisServer, RedisServer], client: aioredis.Redis
) -> None:
    await until(lambda: replicated(client), "the replica in sync")
    records = OrderRecords(client, PREFIX, durability=DURABLE)
    order = make_order(symbol="EURUSD", order_type="buy", volume="0.01")
    await records.mark_sent(order)
    pair[1].kill()
    with pytest.raises(Defer, match="0 of 1 replicas acknowledged it within 1000 ms") as deferred:
        await records.mark_sent(make_order(symbol="EURUSD", order_type="buy", volume="0.01"))
    assert deferred.value.after == 1.0


async def test_the_executor_sends_nothing_until_a_replica_holds_the_record(
    pair: tuple[RedisServer, RedisServer], client: aioredis.Redis, broker: Mt5Broker
) -> None:
    """The simulator (the broker) lives on the tests' Redis; the pipeline on the primary."""
    await until(lambda: replicated(client), "the replica in sync")
    app = App(settings(pair[0].url, prefix=PREFIX))
    registry = InstanceRegistry(client, PREFIX)
    await registry.put(InstanceSpec(instance_id=INSTANCE, login=LOGIN, magic=MAGIC))
    topics = Topics(app)
    reconciler = Reconciler(topics, client, OrderRecords(client, PREFIX, durability=DURABLE))
    executor = Executor(topics, registry, client, {INSTANCE: broker}, reconciler=reconciler)
    await executor.refresh()
    app.agent(topics.orders(INSTANCE), group="executor", batch="streams", exclusive=True)(
        executor.handle
    )
    pair[1].kill()  # no replica: no `sent` record is durable
    order = make_order(symbol="EURUSD", order_type="buy", volume="0.01")
    await topics.orders(INSTANCE).send(order)
    await app.start()
    try:

        async def marked() -> bool:
            return await client.hget(f"{PREFIX}orec:{INSTANCE}", order.order_id) == b"sent"

        await until(marked, "the sent record, on the primary only")
        await until(marked, "a second try")  # deferred for a second, tried again
        assert not broker.module.positions_get()  # not sent
        assert await client.xlen(topics.rtrs.key) == 0
        pair[1].start()  # the replica is back: the record is confirmed, the order sent

        async def done() -> bool:
            return await client.xlen(topics.rtrs.key) == 1

        await until(done, "the order's result once a replica holds its record")
    finally:
        await app.stop()
    entries: Any = await client.xrange(topics.rtrs.key)
    [result] = [Result.model_validate_json(fields[b"d"]) for _, fields in entries]
    assert result.status is OrderStatus.FILLED
    assert len(broker.module.positions_get() or ()) == 1
