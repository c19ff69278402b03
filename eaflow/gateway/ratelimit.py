"""Per-source rate limit: a counter per source and minute in Redis, shared by all gateways."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from model.keys import Keys

WINDOW = 60


class RateLimiter:
    """Fixed one-minute windows: INCR + EXPIRE in one round trip."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.keys = Keys(prefix)

    async def hit(self, source: str, per_minute: int, now: float | None = None) -> int | None:
        """Count one request; the seconds to wait when it is over the limit, else None."""
        now = time.time() if now is None else now
        window = int(now // WINDOW)
        key = self.keys.gateway_rate(source, window)
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, WINDOW * 2)
        count, _ = await pipe.execute()
        if int(count) <= per_minute:
            return None
        return max(1, int((window + 1) * WINDOW - now))
