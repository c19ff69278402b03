"""The order rate limit, counted by the executor that sends an instance's orders."""

from __future__ import annotations

from typing import Any

import pytest
import redis.asyncio as aioredis

from brokers.mt5.broker import Mt5Broker
from model import Action, InstanceSpec, OrderStatus, Result
from model.topics import Topics
from processors.executor.agent import Executor
from processors.executor.rate import OrderRate
from processors.registry import InstanceRegistry
from processors.rules import Refusal
from streams import Batch, Event
from tests.stubs import INSTANCE, LOGIN, MAGIC, PREFIX, make_order, quote


def test_a_sliding_minute_per_instance() -> None:
    rate = OrderRate()
    rate.admit("a", 2, now=100.0)
    rate.admit("a", 2, now=130.0)
    with pytest.raises(Refusal) as refused:
        rate.admit("a", 2, now=159.9)
    assert (refused.value.field, refused.value.rule) == (
        "order_rate_limit",
        "2 orders in the last 60 s reach the limit of 2",
    )
    rate.admit("b", 2, now=159.9)  # other instances count apart
    rate.admit("a", 2, now=160.0)  # the first one left the window
    rate.admit("a", None, now=160.1)  # no limit: always admitted


async def test_the_executor_rejects_opens_over_the_limit_and_lets_exits_through(
    broker: Mt5Broker, topics: Topics, aredis: aioredis.Redis, redis_client: Any
) -> None:
    quote(redis_client, "EURUSD", 1.38742, 1.38755)
    registry = InstanceRegistry(aredis, PREFIX)
    await registry.put(
        InstanceSpec.model_validate(
            {
                "instance_id": INSTANCE,
                "login": LOGIN,
                "magic": MAGIC,
                "config": {"order_rate_limit": 1, "symbols": {"EURUSD": {"slippage": 2}}},
            }
        )
    )
    executor = Executor(topics, registry, aredis, {INSTANCE: broker})
    await executor.refresh()

    async def handle(**fields: Any) -> Result:
        order = make_order(**fields)
        event = Event(order, "1-1", topics.orders(INSTANCE).key, topics.orders(INSTANCE), b"")
        batch = Batch({event.stream: [event]})
        await executor.handle(batch)
        sent = [
            c
            for c in batch.outbox(event.stream).commands
            if c[0] == "XADD" and c[1] == topics.rtrs.key
        ]
        raw = sent[0][-1]
        assert isinstance(raw, bytes | str)
        return Result.model_validate_json(raw)

    first = await handle(symbol="EURUSD", order_type="buy", volume="0.10")
    assert first.status is OrderStatus.FILLED
    second = await handle(symbol="EURUSD", order_type="buy", volume="0.10")
    assert (second.status, second.field) == (OrderStatus.REJECTED, "order_rate_limit")
    closed = await handle(action=Action.CLOSE_ALL, symbol="EURUSD")
    assert closed.status is not OrderStatus.REJECTED
    assert len(await broker.positions_get()) == 0
