"""State sync on real Redis servers: writes, change detection, and a Redis that dies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis
import redis.asyncio as aioredis
from pydantic import BaseModel

from brokers.mt5.broker import Mt5Broker
from brokers.sim.server import SimServer
from brokers.sim.terminal import SimTerminal
from model import AccountState, InstanceReport, InstanceStatus, ReportKind
from model.keys import Keys
from model.topics import Topics
from processors.manager.config import manager_redis
from processors.manager.state_sync import StateSync, SyncConfig, snapshot
from processors.metrics import REDIS_RECONNECTS
from streams import App, AppSettings
from tests.redis_server import RedisServer

M = TypeVar("M", bound=BaseModel)
FAST = SyncConfig(backoff=0.01, reconnect_interval=0.3)


def topics_for(url: str) -> Topics:
    return Topics(App(AppSettings(redis_url=url, prefix="ea:")))


def state(instance: str, equity: float) -> AccountState:
    return AccountState(
        instance=instance,
        login=1,
        currency="USD",
        balance=1000.0,
        equity=equity,
        margin=0.0,
        margin_free=equity,
        margin_level=0.0,
        profit=equity - 1000,
        ts=time.time(),
    )


async def entries(client: aioredis.Redis, key: str, model: type[M]) -> list[M]:
    found: Any = await client.xrange(key)
    return [model.model_validate_json(fields[b"d"]) for _, fields in found]


async def latest(client: aioredis.Redis, key: str) -> AccountState:
    raw: Any = await client.get(key)
    return AccountState.model_validate_json(raw)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis this test may kill and start again (same port, no persistence)."""
    server = RedisServer(workdir=tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
async def client(own_redis: RedisServer) -> AsyncIterator[aioredis.Redis]:
    redis_client = manager_redis(own_redis.url)
    yield redis_client
    await redis_client.aclose()


def test_the_time_stamp_is_the_last_field_of_a_state() -> None:
    """State sync compares states by their JSON up to `"ts":`."""
    assert list(AccountState.model_fields)[-1] == "ts"


async def test_snapshot_of_a_simulated_account(redis_url: str) -> None:
    SimServer(redis.Redis.from_url(redis_url)).open_account(7001, balance=2500, currency="EUR")
    broker = Mt5Broker(
        SimTerminal(redis.Redis.from_url(redis_url)), name="s", login=7001, server="eaflow-sim"
    )
    await broker.connect()
    taken = await snapshot("s", broker)
    await broker.close()
    assert taken is not None
    assert (taken.instance, taken.login, taken.currency) == ("s", 7001, "EUR")
    assert (taken.balance, taken.equity, taken.positions, taken.orders) == (2500, 2500, (), ())


async def test_states_reach_the_key_and_rts_only_when_changed(
    own_redis: RedisServer, client: aioredis.Redis
) -> None:
    topics = topics_for(own_redis.url)
    sync = StateSync(client, topics, FAST)
    assert await sync.publish([state("a", 1000.0), state("b", 1000.0)])
    assert await sync.publish([state("a", 1000.0), state("b", 1010.0)])  # only b changed
    written = await entries(client, topics.rts.key, AccountState)
    assert [s.instance for s in written] == ["a", "b", "b"]
    assert (await latest(client, topics.keys.state("b"))).equity == 1010.0
    assert set(sync.last_sync) == {"a", "b"}


async def test_redis_down_disables_sync_after_three_retries_and_resumes(
    own_redis: RedisServer, client: aioredis.Redis
) -> None:
    topics = topics_for(own_redis.url)
    sync = StateSync(client, topics, FAST)
    assert await sync.publish([state("a", 1000.0)])
    reconnects = REDIS_RECONNECTS._value.get()
    own_redis.kill()
    report = InstanceReport(
        instance="a", kind=ReportKind.NETWORK_ERROR, status=InstanceStatus.SYNC_DISABLED
    )
    assert not await sync.publish([state("a", 990.0)], [report])
    assert not sync.enabled
    assert sync.attempts == 4  # the first try and three retries
    assert sync.error is not None and "ConnectionError" in sync.error
    # while disabled nothing is tried until the reconnect interval has passed
    assert not await sync.publish([state("a", 980.0)])
    own_redis.start()
    assert await client.exists(topics.keys.state("a")) == 0  # a new, empty Redis
    await asyncio.sleep(FAST.reconnect_interval)
    assert await sync.publish([state("a", 970.0)])
    assert sync.enabled and sync.error is None
    assert REDIS_RECONNECTS._value.get() == reconnects + 1
    assert (await latest(client, topics.keys.state("a"))).equity == 970.0
    written = await entries(client, topics.ris.key, InstanceReport)
    assert [(r.instance, r.kind) for r in written] == [("a", ReportKind.NETWORK_ERROR)]
    assert await client.hget(Keys("ea:").instances_status, "a") is not None
