"""The per-source rate limit: one-minute windows in Redis."""

from __future__ import annotations

import redis.asyncio as aioredis

from eaflow.gateway.ratelimit import RateLimiter


async def test_windows_count_per_source(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    limiter = RateLimiter(client, "ea:")
    try:
        at = 1_700_000_040.0  # the start of a minute
        assert [await limiter.hit("a", 2, at + 1) for _ in range(2)] == [None, None]
        assert await limiter.hit("a", 2, at + 15) == 45
        assert await limiter.hit("b", 2, at + 15) is None
        assert await limiter.hit("a", 2, at + 61) is None
        assert 60 < await client.ttl(f"ea:gateway:rate:a:{int(at // 60)}") <= 120
    finally:
        await client.aclose()
