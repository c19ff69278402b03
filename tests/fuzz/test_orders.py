"""orders:{instance} entries through the executor on the simulator: any bytes are decoded or
refused; any order that decodes ends in exactly one result, refusals naming field and rule."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from hypothesis import event, given
from hypothesis import strategies as st

from brokers.mt5.broker import Mt5Broker
from brokers.sim.server import SimServer
from brokers.sim.terminal import SimTerminal
from model import Action, InstanceSpec, Order, OrderStatus, OrderType, Result, Side
from model.topics import Topics
from processors.executor.agent import Executor, ExecutorConfig
from processors.executor.reconcile import Reconciler
from processors.executor.records import OrderRecords
from processors.registry import InstanceRegistry
from streams import App, AppSettings, Batch, Event, ModelCodec, Outbox
from streams.errors import DecodeError
from tests.fuzz.conftest import assert_refusal
from tests.fuzz.strategies import FUZZ, json_values, near
from tests.stubs import INSTANCE, LOGIN, MAGIC, PREFIX, QUOTES, quote

Run = Callable[[Awaitable[Any]], Any]
CODEC = ModelCodec(Order)
ids = itertools.count(1)
prices = st.none() | st.sampled_from(
    [Decimal(x) for x in ("0", "0.00001", "1.38", "1.38755", "1290.6", "99999999", "-1")]
)
near_market = st.sampled_from(
    [Decimal(x) for x in ("1.38000", "1.39000", "1.38742", "1.38755", "1285.00", "1295.000")]
    + [Decimal(x) for x in ("86.000", "87.500", "0", "1.387425")]
)
fields = {
    "order_id": st.builds(lambda: f"fz-{next(ids)}"),
    "signal_id": st.just("s"),
    "instance": st.just(INSTANCE),
    "received_at": st.just(time.time()),
    "routed_at": st.just(time.time()),
}
opens = st.builds(
    Order,
    **fields,
    action=st.just(Action.OPEN),
    symbol=st.sampled_from(["EURUSD", "XAUUSD", "USDJPY", "NOPE"]),
    order_type=st.sampled_from(OrderType),
    volume=st.sampled_from([Decimal(x) for x in ("0.01", "0.02", "0.015", "1", "500")]),
    price=st.none() | near_market,
    stop_limit=st.none() | near_market,
    stop_loss=st.none() | near_market,
    take_profit=st.none() | near_market,
    deviation=st.integers(0, 50) | st.integers(0, 2**32 - 1),
    magic=st.just(MAGIC),
)
markets = st.builds(
    Order,
    **fields,
    action=st.just(Action.OPEN),
    symbol=st.sampled_from(["EURUSD", "XAUUSD", "USDJPY"]),
    order_type=st.sampled_from([OrderType.BUY, OrderType.SELL]),
    volume=st.sampled_from([Decimal(x) for x in ("0.01", "0.02", "0.1")]),
    deviation=st.integers(0, 50),
    magic=st.just(MAGIC),
)
exits = st.builds(
    Order,
    **fields,
    action=st.sampled_from([Action.CLOSE, Action.SLTP, Action.MODIFY, Action.CANCEL]),
    symbol=st.none() | st.sampled_from(["EURUSD", "XAUUSD"]),
    ticket=st.none() | st.integers(1, 400),
    side=st.none() | st.sampled_from(Side),
    volume=st.none() | st.sampled_from([Decimal(x) for x in ("0.01", "0.005", "9")]),
    price=st.none() | near_market,
    stop_loss=st.none() | near_market,
    take_profit=st.none() | near_market,
    magic=st.just(MAGIC),
)
wild = st.builds(
    Order,
    **fields,
    action=st.sampled_from(Action),
    symbol=st.none() | st.sampled_from(["EURUSD", "XAUUSD", "USDJPY", "NOPE", ""]),
    order_type=st.none() | st.sampled_from(OrderType),
    volume=st.none() | st.sampled_from([Decimal(x) for x in ("0.01", "0.015", "0", "500")]),
    price=prices,
    stop_limit=prices,
    stop_loss=prices,
    take_profit=prices,
    side=st.none() | st.sampled_from(Side),
    ticket=st.none() | st.integers(1, 2**64 - 1) | st.integers(1, 60),
    deviation=st.integers(0, 2**32 - 1),
    magic=st.sampled_from([MAGIC, 0, 2**64 - 1]),
    comment=st.text(max_size=40),
)
orders = st.one_of(markets, markets, opens, exits, exits, wild)  # exits need positions


@pytest.fixture
def executor(redis_url: str, redis_client: redis.Redis, run: Run) -> Iterator[Executor]:
    """The executor of the contract instance, a simulated account with live quotes."""
    SimServer(redis_client, prefix=PREFIX).open_account(LOGIN, balance=10_000, name=INSTANCE)
    for symbol, (bid, ask) in QUOTES.items():
        quote(redis_client, symbol, bid, ask)
    app = App(AppSettings(redis_url=redis_url, prefix=PREFIX, name="fuzz"))
    client = aioredis.Redis.from_url(redis_url)
    terminal = SimTerminal(redis.Redis.from_url(redis_url), prefix=PREFIX)

    async def setup() -> Executor:
        registry = InstanceRegistry(client, PREFIX)
        await registry.put(InstanceSpec(instance_id=INSTANCE, login=LOGIN, magic=MAGIC))
        broker = Mt5Broker(terminal, name=INSTANCE, login=LOGIN, server="eaflow-sim")
        await broker.connect()
        topics = Topics(app)
        reconciler = Reconciler(topics, client, OrderRecords(client, PREFIX))
        config = ExecutorConfig(order_ttl=0.5, reconnect_interval=0.01)
        executor = Executor(topics, registry, client, {INSTANCE: broker}, config, reconciler)
        await executor.refresh()
        return executor

    async def close() -> None:
        await client.aclose()
        await app.redis.aclose()

    yield run(setup())
    run(close())


def results_of(out: Outbox) -> list[Result]:
    return [
        Result.model_validate_json(command[-1])  # type: ignore[arg-type]
        for command in out.commands
        if command[0] == "XADD" and command[1] == f"{PREFIX}rtrs"
    ]


async def handled(executor: Executor, entry: Event[Order]) -> Outbox:
    """As the agent does: a deferred order (its broker away) is handled again later."""
    while True:
        batch = Batch({entry.stream: [entry]})
        await executor.handle(batch)
        stop = batch.stops.get(entry.stream)
        if stop is None:
            out: Outbox = batch.outbox(entry.stream)
            return out
        await asyncio.sleep(stop.after)


@FUZZ
@given(order=orders)
def test_any_order_ends_in_one_result(executor: Executor, run: Run, order: Order) -> None:
    entry = Event(order, "1-0", f"{PREFIX}orders:{INSTANCE}", executor.topics.orders(INSTANCE), b"")
    out = run(asyncio.wait_for(handled(executor, entry), timeout=30))
    [result] = results_of(out)
    event(f"{result.status}: {result.field}")
    assert result.order_id == order.order_id
    if result.status in (OrderStatus.REJECTED, OrderStatus.FAILED):
        assert result.error, result
        if result.field:
            assert_refusal(result.error)


@FUZZ
@given(
    raw=st.binary(max_size=200)
    | near(list(Order.model_fields)).map(json.dumps)
    | json_values.map(json.dumps)
)
def test_any_entry_decodes_to_an_order_or_is_refused(raw: bytes | str) -> None:
    try:
        CODEC.decode(raw if isinstance(raw, bytes) else raw.encode())
    except DecodeError as error:
        assert_refusal(str(error))
