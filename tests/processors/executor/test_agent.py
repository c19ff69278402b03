"""The executor agent on a real Redis and the simulator: one result per order, whatever the
broker link does in the middle of a batch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from brokers.mt5.broker import Mt5Broker
from brokers.mt5.records import OrderCheckResult, OrderSendResult
from brokers.sim.server import SimServer
from brokers.types import TradeRequest
from eaflow.instances import InstanceRegistry
from eaflow.models import InstanceSpec, OrderStatus, Result
from processors.executor.agent import Executor, ExecutorConfig
from processors.executor.reconcile import Reconciler
from processors.executor.records import OrderRecords
from processors.topics import Topics
from streams import App
from tests.brokers.mt5.conftest import INSTANCE, LOGIN, MAGIC, PREFIX, make_order
from tests.streams.conftest import settings, until


class CutAfterFirstSend(Mt5Broker):
    """The trade server link drops right after the first order is executed, and is back on
    the next connect: the rest of the batch waits for a reconnect (and its reconciliation)."""

    def __init__(self, inner: Mt5Broker, server: SimServer) -> None:
        super().__init__(inner.module, inner.name, inner.path, **inner.login)
        self.server = server
        self.sends = 0
        self.connects = 0

    async def order_send(self, request: TradeRequest) -> OrderSendResult | None:
        sent = await super().order_send(request)
        self.sends += 1
        if self.sends == 1:
            self.server.set_connected(LOGIN, False)
        return sent

    async def connect(self) -> None:
        self.connects += 1
        self.server.set_connected(LOGIN, True)
        await super().connect()


class RejectedMeanwhile(Mt5Broker):
    """The router rejects a copy of the order's signal (a client sent it again) between the
    executor's read of the record and its send: the record turns terminal in between."""

    def __init__(self, inner: Mt5Broker, client: aioredis.Redis, order_id: str) -> None:
        super().__init__(inner.module, inner.name, inner.path, **inner.login)
        self.client = client
        self.order_id = order_id

    async def order_check(self, request: TradeRequest) -> OrderCheckResult | None:
        await self.client.hsetnx(f"{PREFIX}orec:{INSTANCE}", self.order_id, "rejected")
        return await super().order_check(request)


@pytest.fixture
async def app(redis_url: str) -> AsyncIterator[App]:
    app = App(settings(redis_url, prefix=PREFIX))
    yield app
    await app.stop()


async def test_reconnect_mid_batch_leaves_the_batchs_executed_orders_to_its_commit(
    app: App, broker: Mt5Broker, server: SimServer, redis_client: redis.Redis
) -> None:
    """Regression: the reconnect's reconciliation took the first order of the batch (sent,
    its result waiting for the batch's commit) for a crashed one and wrote its result too."""
    client = aioredis.Redis.from_url(app.settings.redis_url)
    registry = InstanceRegistry(client, PREFIX)
    await registry.put(InstanceSpec(instance_id=INSTANCE, login=LOGIN, magic=MAGIC))
    topics = Topics(app)
    flaky = CutAfterFirstSend(broker, server)
    await flaky.connect()
    reconciler = Reconciler(topics, client, OrderRecords(client, PREFIX))
    executor = Executor(
        topics,
        registry,
        client,
        {INSTANCE: flaky},
        ExecutorConfig(reconnect_interval=0.05),
        reconciler=reconciler,
    )
    await executor.refresh()
    orders = [make_order(symbol="EURUSD", order_type="buy", volume="0.01") for _ in range(2)]
    await topics.orders(INSTANCE).send_many(orders)  # read in one batch
    app.agent(topics.orders(INSTANCE), group="executor")(executor.handle)
    await app.start()

    async def acked() -> bool:
        info = await client.xpending(topics.orders(INSTANCE).key, "executor")
        return await client.xlen(topics.rtrs.key) >= 2 and int(info["pending"]) == 0

    try:
        await until(acked, "both orders acked")
    finally:
        await client.aclose()
    entries: Any = redis_client.xrange("ea:rtrs")
    found = [Result.model_validate_json(fields[b"d"]) for _, fields in entries]
    assert flaky.connects == 2  # the batch did wait for a reconnect
    assert sorted(r.order_id for r in found) == sorted(o.order_id for o in orders)
    assert {r.status for r in found} == {OrderStatus.FILLED}


async def test_the_same_order_twice_in_one_batch_ends_in_one_result(
    app: App, broker: Mt5Broker, redis_client: redis.Redis
) -> None:
    """A signal sent again (a client retrying after a lost reply) or routed twice reaches
    the executor as two entries of one order, possibly in one batch."""
    client = aioredis.Redis.from_url(app.settings.redis_url)
    registry = InstanceRegistry(client, PREFIX)
    await registry.put(InstanceSpec(instance_id=INSTANCE, login=LOGIN, magic=MAGIC))
    topics = Topics(app)
    reconciler = Reconciler(topics, client, OrderRecords(client, PREFIX))
    executor = Executor(topics, registry, client, {INSTANCE: broker}, reconciler=reconciler)
    await executor.refresh()
    order = make_order(symbol="EURUSD", order_type="buy", volume="0.01")
    await topics.orders(INSTANCE).send_many([order, order])  # read in one batch
    app.agent(topics.orders(INSTANCE), group="executor")(executor.handle)
    await app.start()

    async def acked() -> bool:
        info = await client.xpending(topics.orders(INSTANCE).key, "executor")
        length = await client.xlen(topics.orders(INSTANCE).key)
        read = await client.xinfo_groups(topics.orders(INSTANCE).key)
        return length == 2 and read[0]["entries-read"] == 2 and int(info["pending"]) == 0

    try:
        await until(acked, "both entries acked")
    finally:
        await client.aclose()
    entries: Any = redis_client.xrange("ea:rtrs")
    assert [Result.model_validate_json(f[b"d"]).order_id for _, f in entries] == [order.order_id]
    assert len(broker.module.positions_get() or ()) == 1


async def test_an_order_finished_while_it_is_handled_is_not_sent(
    app: App, broker: Mt5Broker, redis_client: redis.Redis
) -> None:
    """The record the executor read was free; it is terminal by the time the order would be
    sent: nothing is sent, the entry is acked, and the rejection stays its one result."""
    client = aioredis.Redis.from_url(app.settings.redis_url)
    registry = InstanceRegistry(client, PREFIX)
    await registry.put(InstanceSpec(instance_id=INSTANCE, login=LOGIN, magic=MAGIC))
    topics = Topics(app)
    order = make_order(symbol="EURUSD", order_type="buy", volume="0.01")
    late = RejectedMeanwhile(broker, client, order.order_id)
    executor = Executor(topics, registry, client, {INSTANCE: late})
    await executor.refresh()
    await topics.orders(INSTANCE).send(order)
    app.agent(topics.orders(INSTANCE), group="executor")(executor.handle)
    await app.start()

    async def acked() -> bool:
        info = await client.xpending(topics.orders(INSTANCE).key, "executor")
        read = await client.xinfo_groups(topics.orders(INSTANCE).key)
        return read[0]["entries-read"] == 1 and int(info["pending"]) == 0

    try:
        await until(acked, "the entry acked")
    finally:
        await client.aclose()
    assert redis_client.xlen("ea:rtrs") == 0  # the router's rejection is its result
    assert redis_client.hget(f"{PREFIX}orec:{INSTANCE}", order.order_id) == b"rejected"
    assert redis_client.hlen(f"{PREFIX}osent:{INSTANCE}") == 0
    assert not broker.module.positions_get()
