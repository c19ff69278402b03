"""Fixtures for the runtime's tests: an app on the test Redis with short timings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from streams import App, AppSettings

FAST = {
    "prefix": "t:",
    "block_ms": 50,
    "retry_initial": 0.01,
    "retry_max": 0.05,
    "reconnect_initial": 0.05,
    "reconnect_max": 0.2,
    "start_id": "0",
}


def settings(redis_url: str, **overrides: object) -> AppSettings:
    return AppSettings.model_validate({"redis_url": redis_url, **FAST, **overrides})


@pytest.fixture
async def app(redis_url: str) -> AsyncIterator[App]:
    """An app with fast retries; stopped (if started) after the test."""
    app = App(settings(redis_url))
    yield app
    await app.stop()


@pytest.fixture
async def r(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A plain asyncio client to look at what the app did."""
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def until(
    check: Callable[[], Awaitable[bool]], timeout: float = 10.0, what: str = "condition"
) -> None:
    """Poll `check` until it holds; fail after `timeout` seconds (a deadline, not a speed test)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)
