"""The executor agent on a real Redis and the simulator: one result per order, whatever the
broker link does in the middle of a batch."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from prometheus_client import REGISTRY
from redis.backoff import NoBackoff
from redis.retry import Retry

from brokers.mt5.api import MT5Api
from brokers.mt5.broker import Mt5Broker
from brokers.mt5.records import OrderCheckResult, OrderSendResult
from brokers.mt5.terminal import Terminal
from brokers.sim.server import SimServer
from brokers.sim.terminal import SimTerminal
from model import InstanceSpec, Order, OrderStatus, Result, TradingConfig
from model.topics import Topics
from processors.executor.agent import Executor, ExecutorConfig
from processors.executor.reconcile import Reconciler
from processors.executor.records import OrderRecords
from processors.registry import InstanceRegistry
from processors.sessions import Sessions
from streams import App
from tests.streams.conftest import settings, until
from tests.stubs import INSTANCE, LOGIN, MAGIC, PREFIX, make_order


class CutAfterFirstSend(Mt5Broker):
    """The trade server link drops right after the first order is executed, and is back on
    the next connect: the rest of the batch waits for a reconnect (and its reconciliation)."""

    def __init__(self, inner: Mt5Broker, server: SimServer) -> None:
        super().__init__(inner.module, inner.name, inner.path, **inner.login)
        self.terminal = CuttingTerminal(inner.module, inner.name, server)
        self.connects = 0

    @property
    def sends(self) -> int:
        assert isinstance(self.terminal, CuttingTerminal)
        return self.terminal.sends

    async def connect(self) -> None:
        self.connects += 1
        assert isinstance(self.terminal, CuttingTerminal)
        self.terminal.server.set_connected(LOGIN, True)
        await super().connect()


class CuttingTerminal(Terminal):
    """Cuts the account's link to the trade server after its first `order_send`."""

    def __init__(self, module: MT5Api, name: str, server: SimServer) -> None:
        super().__init__(module, name)
        self.server = server
        self.sends = 0

    def order_send(self, request: dict[str, Any]) -> OrderSendResult | None:
        sent = super().order_send(request)
        self.sends += 1
        if self.sends == 1:
            self.server.set_connected(LOGIN, False)
        return sent


class RejectedMeanwhile(Mt5Broker):
    """The router rejects a copy of the order's signal (a client sent it again) between the
    executor's read of the record and its send: the record turns terminal in between."""

    def __init__(self, inner: Mt5Broker, client: redis.Redis, order_id: str) -> None:
        super().__init__(inner.module, inner.name, inner.path, **inner.login)
        self.terminal = RejectingTerminal(inner.module, inner.name, client, order_id)


class RejectingTerminal(Terminal):
    """Before its check, a router's rejection of the same order lands in its record."""

    def __init__(self, module: MT5Api, name: str, client: redis.Redis, order_id: str) -> None:
        super().__init__(module, name)
        self.client = client
        self.order_id = order_id

    def order_check(self, request: dict[str, Any]) -> OrderCheckResult | None:
        self.client.hsetnx(f"{PREFIX}orec:{INSTANCE}", self.order_id, "rejected")
        return super().order_check(request)


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
    app.agent(topics.orders(INSTANCE), group="executor", batch="streams")(executor.handle)
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


async def all_acked(client: aioredis.Redis, key: str) -> bool:
    """The stream's only group was given its newest entry and has none pending, both from
    one XINFO GROUPS reply (its `entries-read` is Redis 7). Read apart, a pending count
    taken before the group's first read was 0 too: the test went on with nothing handled
    yet, and closed the executor's client under its handler."""
    newest: Any = await client.xrevrange(key, count=1)
    groups: Any = await client.xinfo_groups(key)
    if not newest or not groups:
        return False
    return groups[0]["last-delivered-id"] == newest[0][0] and int(groups[0]["pending"]) == 0


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
    app.agent(topics.orders(INSTANCE), group="executor", batch="streams")(executor.handle)
    await app.start()

    async def acked() -> bool:
        length = await client.xlen(topics.orders(INSTANCE).key)
        return length == 2 and await all_acked(client, topics.orders(INSTANCE).key)

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
    late = RejectedMeanwhile(broker, redis_client, order.order_id)
    executor = Executor(topics, registry, client, {INSTANCE: late})
    await executor.refresh()
    await topics.orders(INSTANCE).send(order)
    app.agent(topics.orders(INSTANCE), group="executor", batch="streams")(executor.handle)
    await app.start()

    async def acked() -> bool:
        return await all_acked(client, topics.orders(INSTANCE).key)

    try:
        await until(acked, "the entry acked")
    finally:
        await client.aclose()
    assert redis_client.xlen("ea:rtrs") == 0  # the router's rejection is its result
    assert redis_client.hget(f"{PREFIX}orec:{INSTANCE}", order.order_id) == b"rejected"
    assert redis_client.hlen(f"{PREFIX}osent:{INSTANCE}") == 0
    assert not broker.module.positions_get()


LOGIN_2, MAGIC_2, INSTANCE_2 = 8_100_002, 810_002, "contract-2"


async def results_of(client: aioredis.Redis) -> dict[str, Result]:
    entries: Any = await client.xrange("ea:rtrs")
    found = [Result.model_validate_json(fields[b"d"]) for _, fields in entries]
    return {r.order_id: r for r in found}


async def two_instances(
    app: App, broker: Mt5Broker, server: SimServer, redis_client: redis.Redis
) -> tuple[Executor, aioredis.Redis]:
    """An executor process hosting the contract instance and a second simulated account."""
    server.open_account(LOGIN_2, balance=10_000, currency="USD", leverage=100, name=INSTANCE_2)
    terminal = SimTerminal(redis_client, prefix=PREFIX)
    assert terminal.initialize(login=LOGIN_2, server="eaflow-sim")
    second = Mt5Broker(terminal, name=INSTANCE_2, login=LOGIN_2, server="eaflow-sim")
    await second.connect()
    client = aioredis.Redis.from_url(app.settings.redis_url)
    registry = InstanceRegistry(client, PREFIX)
    limited = TradingConfig(order_rate_limit=2)  # two opens a minute
    await registry.put(InstanceSpec(instance_id=INSTANCE, login=LOGIN, magic=MAGIC, config=limited))
    await registry.put(InstanceSpec(instance_id=INSTANCE_2, login=LOGIN_2, magic=MAGIC_2))
    topics = Topics(app)
    sessions = Sessions()
    sessions.put(INSTANCE, broker)
    sessions.put(INSTANCE_2, second)
    executor = Executor(
        topics,
        registry,
        client,
        sessions,
        ExecutorConfig(reconnect_interval=0.05),
        reconciler=Reconciler(topics, client, OrderRecords(client, PREFIX)),
    )
    await executor.refresh()
    app.agent(
        [topics.orders(INSTANCE), topics.orders(INSTANCE_2)], group="executor", batch="streams"
    )(executor.handle)
    return executor, client


async def result_of(client: aioredis.Redis, order: Order, what: str) -> Result:
    """The order's result, once it is in `rtrs`."""

    async def written() -> bool:
        return order.order_id in await results_of(client)

    await until(written, what)
    return (await results_of(client))[order.order_id]


async def late_result(app: App, executor: Executor, client: aioredis.Redis) -> Result:
    """Start the executor on one order of the contract instance routed twice its TTL ago."""
    routed = time.time() - 2 * executor.config.order_ttl
    late = make_order(symbol="EURUSD", order_type="buy", volume="0.01", routed_at=routed)
    await executor.topics.orders(INSTANCE).send(late)
    await app.start()
    try:
        return await result_of(client, late, "the late order's result")
    finally:
        await client.aclose()


def deferrals() -> float:
    labels = {"stream": f"{PREFIX}orders:{INSTANCE}", "group": "executor"}
    return REGISTRY.get_sample_value("eaflow_stream_events_deferred_total", labels) or 0.0


async def test_an_instance_whose_broker_is_away_holds_up_only_its_own_orders(
    app: App, broker: Mt5Broker, server: SimServer, redis_client: redis.Redis
) -> None:
    """Regression (chaos run, seed 389620566): one account's lost link held the whole
    batch, so every instance of the process waited, and their orders failed past their
    TTL. Now the other instance is served meanwhile; the waiting one keeps its order."""
    executor, client = await two_instances(app, broker, server, redis_client)
    server.set_connected(LOGIN, False)
    first, second = (make_order(symbol="EURUSD", order_type="buy", volume="0.01") for _ in "12")
    other = make_order(
        instance=INSTANCE_2, magic=MAGIC_2, symbol="EURUSD", order_type="buy", volume="0.01"
    )
    await executor.topics.orders(INSTANCE).send_many([first, second])
    await executor.topics.orders(INSTANCE_2).send(other)  # all three in one batch
    deferred = deferrals()
    await app.start()
    try:
        served = await result_of(client, other, "the other instance's result, link down")
        assert served.status is OrderStatus.FILLED
        assert first.order_id not in await results_of(client)
        pending = await client.xpending(executor.topics.orders(INSTANCE).key, "executor")
        assert int(pending["pending"]) == 2, "both orders of the cut instance wait, in order"
        assert await client.exists(f"{PREFIX}fails:orders:{INSTANCE}:executor") == 0
        assert deferrals() > deferred
        server.set_connected(LOGIN, True)

        async def all_done() -> bool:
            return len(await results_of(client)) == 3

        await until(all_done, "the cut instance's orders after the link is back")
        results = await results_of(client)
    finally:
        await client.aclose()
    assert {r.status for r in results.values()} == {OrderStatus.FILLED}
    assert results[first.order_id].done_at <= results[second.order_id].done_at
    assert len(broker.module.positions_get() or ()) == 2


async def test_an_order_past_its_ttl_is_sent_if_its_broker_reconnects(
    app: App, broker: Mt5Broker, server: SimServer, redis_client: redis.Redis
) -> None:
    """Regression (same chaos run): a session lost while Redis restarted failed every order
    older than its TTL at once, though a reconnect would have found the broker there."""
    executor, client = await two_instances(app, broker, server, redis_client)
    broker.module.shutdown()  # the terminal session is gone (-10004), its server is up
    result = await late_result(app, executor, client)
    assert result.status is OrderStatus.FILLED, result


def unreachable() -> Mt5Broker:
    """The contract instance on a terminal whose storage (the simulator's Redis) refuses
    connections, as during a chaos run's Redis restart: no reconnect helps."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    storage = redis.Redis(port=closed_port, retry=Retry(NoBackoff(), 0))  # refused at once
    terminal = SimTerminal(storage, prefix=PREFIX)
    return Mt5Broker(terminal, name=INSTANCE, login=LOGIN, server="eaflow-sim")


async def test_an_order_deferred_before_it_is_sent_counts_once_against_the_rate_limit(
    app: App, broker: Mt5Broker, server: SimServer, redis_client: redis.Redis
) -> None:
    executor, client = await two_instances(app, unreachable(), server, redis_client)
    orders = [make_order(symbol="EURUSD", order_type="buy", volume="0.01") for _ in "12"]
    await executor.topics.orders(INSTANCE).send_many(orders)
    deferred = deferrals()
    await app.start()
    try:

        async def deferred_often() -> bool:
            return deferrals() >= deferred + 3

        await until(deferred_often, "the first order deferred three times")
        assert isinstance(executor.brokers, Sessions)
        executor.brokers.put(INSTANCE, broker)  # as the manager does with a new session

        async def done() -> bool:
            return len(await results_of(client)) == 2

        await until(done, "both results")
        results = await results_of(client)
    finally:
        await client.aclose()
    assert [results[o.order_id].status for o in orders] == [OrderStatus.FILLED] * 2, results


async def test_an_unsent_order_fails_past_its_ttl_while_its_broker_stays_away(
    app: App, server: SimServer, redis_client: redis.Redis
) -> None:
    executor, client = await two_instances(app, unreachable(), server, redis_client)
    result = await late_result(app, executor, client)
    assert (result.status, result.field) == (OrderStatus.FAILED, "broker"), result
    assert result.error is not None
    assert result.error.startswith("broker unavailable: "), result.error
    assert "simulator storage" in result.error or "-10004" in result.error, result.error
