"""Executor fixtures: the contract instance's simulated terminal, records and reconciler."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from model.topics import Topics
from processors.executor.reconcile import Reconciler
from processors.executor.records import OrderRecords
from streams import App, AppSettings
from tests.stubs import PREFIX, broker, server, terminal

__all__ = ["broker", "server", "terminal"]  # the simulated terminal's fixtures, shared


@pytest.fixture
async def aredis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def topics(redis_url: str) -> AsyncIterator[Topics]:
    app = App(AppSettings(redis_url=redis_url, prefix=PREFIX, name="test"))
    yield Topics(app)
    await app.redis.aclose()


@pytest.fixture
def records(aredis: aioredis.Redis) -> OrderRecords:
    return OrderRecords(aredis, PREFIX)


@pytest.fixture
def reconciler(topics: Topics, aredis: aioredis.Redis, records: OrderRecords) -> Reconciler:
    return Reconciler(topics, aredis, records)
