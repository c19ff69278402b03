"""The executor on simulated accounts it holds in memory: a batch's trades commit with their
results, and an account someone else moved is read again, never overwritten."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from brokers.factory import broker_for
from brokers.mt5 import constants as mt5
from brokers.mt5.requests import filling_mode
from brokers.sim.market import SimMarket
from brokers.sim.server import SimServer
from brokers.sim.store import AccountKeys
from brokers.sim.terminal import SimTerminal
from model import Action, InstanceSpec, Order, OrderStatus, Result
from model.topics import Topics
from processors.executor.agent import Executor
from processors.registry import InstanceRegistry
from processors.sessions import Sessions
from streams import App, Batch
from tests.streams.conftest import settings, until
from tests.stubs import INSTANCE, LOGIN, MAGIC, PREFIX, make_order

INSTANCE_2, LOGIN_2 = "contract-2", 8_100_002


@pytest.fixture
async def app(redis_url: str) -> AsyncIterator[App]:
    app = App(settings(redis_url, prefix=PREFIX))
    yield app
    await app.stop()


@pytest.fixture
async def held(
    app: App, server: SimServer, redis_url: str
) -> AsyncIterator[tuple[Executor, aioredis.Redis]]:
    """An executor holding the contract account and a second one, sharing one market."""
    server.open_account(LOGIN_2, balance=5_000, currency="USD", leverage=100, name=INSTANCE_2)
    client = aioredis.Redis.from_url(redis_url)
    sync = redis.Redis.from_url(redis_url)
    market = SimMarket(client, sync, PREFIX)
    registry = InstanceRegistry(client, PREFIX)
    sessions = Sessions()
    for instance, login, magic in ((INSTANCE, LOGIN, MAGIC), (INSTANCE_2, LOGIN_2, MAGIC + 1)):
        await registry.put(InstanceSpec(instance_id=instance, login=login, magic=magic))
        session = broker_for("sim://", instance, login, redis_url, PREFIX, market=market)
        await session.connect()
        sessions.put(instance, session)
    topics = Topics(app)
    executor = Executor(topics, registry, client, sessions)
    await executor.refresh()
    yield executor, client
    await sessions.close()
    await client.aclose()
    sync.close()


def opened(instance: str) -> Order:
    return make_order(symbol="EURUSD", order_type="buy", volume="0.10", instance=instance)


async def results(client: aioredis.Redis) -> dict[str, Result]:
    entries: Any = await client.xrange(f"{PREFIX}rtrs")
    found = [Result.model_validate_json(fields[b"d"]) for _, fields in entries]
    return {r.order_id: r for r in found}


async def start(app: App, executor: Executor, instances: tuple[str, ...]) -> None:
    topics = [executor.topics.orders(i) for i in instances]
    app.agent(topics, group="executor", batch="streams")(executor.handle)
    await app.start()


def another_terminal(client: redis.Redis, login: int) -> SimTerminal:
    """Someone else on the account: a second terminal, reading and trading through Redis."""
    other = SimTerminal(client, prefix=PREFIX)
    assert other.initialize(login=login, server="eaflow-sim")
    return other


def trade(terminal: SimTerminal, request: dict[str, Any]) -> None:
    tick, info = (
        terminal.symbol_info_tick(request["symbol"]),
        terminal.symbol_info(request["symbol"]),
    )
    assert tick is not None and info is not None
    price = tick.ask if request["type"] == mt5.ORDER_TYPE_BUY else tick.bid
    sent = terminal.order_send(
        {"action": mt5.TRADE_ACTION_DEAL, "deviation": 20, "price": price,
         "type_filling": filling_mode(info), **request}
    )  # fmt: skip
    assert sent is not None and sent.retcode == mt5.TRADE_RETCODE_DONE, sent


async def test_one_batch_trades_every_account_and_commits_with_the_results(
    app: App, held: tuple[Executor, aioredis.Redis], server: SimServer
) -> None:
    executor, client = held
    orders = [opened(INSTANCE), opened(INSTANCE_2), opened(INSTANCE)]
    for order in orders:
        await executor.topics.orders(order.instance).send(order)
    versions = [server.redis.hget(AccountKeys(PREFIX, login).account, "version") or b"0"
                for login in (LOGIN, LOGIN_2)]  # fmt: skip
    await start(app, executor, (INSTANCE, INSTANCE_2))

    async def done() -> bool:
        return len(await results(client)) == 3

    await until(done, "three results")
    found = await results(client)
    assert {r.status for r in found.values()} == {OrderStatus.FILLED}
    for instance, login, count in ((INSTANCE, LOGIN, 2), (INSTANCE_2, LOGIN_2, 1)):
        positions = another_terminal(server.redis, login).positions_get() or ()
        assert len(positions) == count  # in Redis, written by the commit
        ours = {r.position_ticket for r in found.values() if r.instance == instance}
        assert {p.ticket for p in positions} == ours
        assert await client.hget(f"{PREFIX}orec:{instance}", orders[0].order_id) in (
            b"filled",
            None,
        )
    after = [server.redis.hget(AccountKeys(PREFIX, login).account, "version") or b"0"
             for login in (LOGIN, LOGIN_2)]  # fmt: skip
    assert [int(a) - int(b) for a, b in zip(after, versions, strict=True)] == [1, 1]  # one commit


async def test_an_account_moved_by_someone_else_is_read_again(
    app: App, held: tuple[Executor, aioredis.Redis], server: SimServer, redis_client: redis.Redis
) -> None:
    """The tick worker closed the position (its stop loss) after the executor loaded the
    account: the close that follows finds no position instead of closing it twice."""
    executor, client = held
    await start(app, executor, (INSTANCE,))
    first = opened(INSTANCE)
    await executor.topics.orders(INSTANCE).send(first)

    async def filled() -> bool:
        return first.order_id in await results(client)

    await until(filled, "the open")
    other = another_terminal(redis_client, LOGIN)
    (position,) = other.positions_get() or ()
    trade(
        other,
        {
            "symbol": "EURUSD",
            "volume": 0.1,
            "type": mt5.ORDER_TYPE_SELL,
            "position": position.ticket,
        },
    )
    close = make_order(Action.CLOSE, symbol="EURUSD")
    await executor.topics.orders(INSTANCE).send(close)

    async def answered() -> bool:
        return close.order_id in await results(client)

    await until(answered, "the close")
    result = (await results(client))[close.order_id]
    assert (result.status, result.field) == (OrderStatus.REJECTED, "ticket")
    assert other.positions_get() == ()


async def test_a_commit_that_lost_its_account_to_another_writer_is_redone_once(
    app: App, held: tuple[Executor, aioredis.Redis], redis_client: redis.Redis
) -> None:
    """Between the batch's trades and its commit, another writer moves the account: the
    commit is refused (CONFLICT), the batch comes back, the account is loaded again and the
    order is traded once, on the new account."""
    executor, client = held
    handle = executor.handle
    moved = asyncio.Event()
    other = another_terminal(redis_client, LOGIN)

    handled: list[str] = []

    async def racing(batch: Batch[Order]) -> None:
        handled.extend(e.id for events in batch.streams.values() for e in events)
        await handle(batch)
        if not moved.is_set():
            moved.set()  # someone else's trade commits before the executor's commit
            trade(other, {"symbol": "USDJPY", "volume": 0.01, "type": mt5.ORDER_TYPE_BUY})

    app.agent(executor.topics.orders(INSTANCE), group="executor", batch="streams")(racing)
    await app.start()
    order = opened(INSTANCE)
    await executor.topics.orders(INSTANCE).send(order)

    async def done() -> bool:
        return order.order_id in await results(client)

    await until(done, "the order's result")
    assert moved.is_set() and len(handled) == 2 and handled[0] == handled[1]  # came back once
    [result] = (await results(client)).values()
    assert result.status is OrderStatus.FILLED
    positions = {p.symbol: p for p in other.positions_get() or ()}
    assert sorted(positions) == ["EURUSD", "USDJPY"]  # the other trade kept, nothing overwritten
    assert result.position_ticket == positions["EURUSD"].ticket
