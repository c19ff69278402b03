"""LatestTicks: a followed symbol's newest tick is in memory; anything else is read."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import pytest
import redis.asyncio as aioredis
from structlog.testing import capture_logs

from model.tick import Tick, encode_tick
from processors.router.prices import LatestTicks
from tests.stubs import EURUSD_TICK

KEY = "ea:ticks:{}".format


@pytest.fixture
async def aredis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def xrevranges(client: aioredis.Redis) -> int:
    stats = await client.info("commandstats")
    return int(stats.get("cmdstat_xrevrange", {}).get("calls", 0))


def lost(logs: list[MutableMapping[str, Any]]) -> bool:
    """Whether the follower logged losing Redis (and so stopped following)."""
    return any(entry["event"] == "router.prices_unavailable" for entry in logs)


def moved(tick: Tick, bid: float) -> Tick:
    return tick._replace(bid=bid, ask=bid + 0.0001, time_msc=tick.time_msc + 1)


async def until(condition: object, seconds: float = 5.0) -> None:
    assert callable(condition)
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


async def test_without_the_follower_every_price_is_read_from_its_stream(
    aredis: aioredis.Redis,
) -> None:
    prices = LatestTicks(aredis, KEY)
    assert await prices.get("EURUSD") is None  # no tick yet
    await aredis.xadd(KEY("EURUSD"), {"d": encode_tick(EURUSD_TICK)})
    assert await prices.get("EURUSD") == EURUSD_TICK
    newer = moved(EURUSD_TICK, 1.4)
    await aredis.xadd(KEY("EURUSD"), {"d": encode_tick(newer)})
    assert await prices.get("EURUSD") == newer


async def test_a_malformed_newest_tick_is_passed_over_for_the_last_valid_one(
    aredis: aioredis.Redis,
) -> None:
    """Regression: a garbage newest tick made every signal for the symbol fail until it
    was dead-lettered (found by the poison e2e test)."""
    prices = LatestTicks(aredis, KEY)
    await aredis.xadd(KEY("EURUSD"), {"d": encode_tick(EURUSD_TICK)})
    await aredis.xadd(KEY("EURUSD"), {"d": b"garbage"})
    await aredis.xadd(KEY("EURUSD"), {"x": b"no d field"})
    assert await prices.get("EURUSD") == EURUSD_TICK
    await aredis.xadd(KEY("XAUUSD"), {"d": b'{"bid": 1}'})
    assert await prices.get("XAUUSD") is None  # nothing valid: no quote, not an error


async def test_a_followed_symbol_is_priced_from_memory_and_stays_current(
    aredis: aioredis.Redis,
) -> None:
    await aredis.xadd(KEY("EURUSD"), {"d": encode_tick(EURUSD_TICK)})
    prices = LatestTicks(aredis, KEY, block_ms=100)
    follower = asyncio.create_task(prices.run())
    try:
        assert await prices.get("EURUSD") == EURUSD_TICK  # first time: read, then followed
        await until(lambda: prices.following("EURUSD"))
        reads = await xrevranges(aredis)
        for bid in (1.39, 1.40, 1.41):
            tick = moved(EURUSD_TICK, bid)
            await aredis.xadd(KEY("EURUSD"), {"d": encode_tick(tick)})
            await until(lambda: prices._ticks["EURUSD"] == tick)  # noqa: B023
            assert await prices.get("EURUSD") == tick
        await aredis.xadd(KEY("EURUSD"), {"d": b"not a tick"})  # skipped, logged
        good = moved(EURUSD_TICK, 1.42)
        await aredis.xadd(KEY("EURUSD"), {"d": encode_tick(good)})
        await until(lambda: prices._ticks["EURUSD"] == good)
        assert await xrevranges(aredis) == reads  # no read on the signal's path
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower


async def test_a_lost_redis_makes_signals_read_prices_again(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    await client.xadd(KEY("EURUSD"), {"d": encode_tick(EURUSD_TICK)})
    prices = LatestTicks(client, KEY, block_ms=100)
    follower = asyncio.create_task(prices.run())
    try:
        await prices.get("EURUSD")
        await until(lambda: prices.following("EURUSD"))
        with capture_logs() as logs:  # the unfollowed moment is too short to poll for
            await client.client_kill_filter(_type="normal", skipme=False)  # drops every link
            await until(lambda: lost(logs) or follower.done())
        assert not follower.done()
        newer = moved(EURUSD_TICK, 1.2)
        await until(lambda: prices.following("EURUSD"))  # reconnected, following again
        await client.xadd(KEY("EURUSD"), {"d": encode_tick(newer)})
        reads = await xrevranges(client)
        for _ in range(500):
            if await prices.get("EURUSD") == newer:
                break
            await asyncio.sleep(0.01)
        assert await prices.get("EURUSD") == newer
        assert await xrevranges(client) == reads  # the follower brought it, not a read
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        await client.aclose()
