"""Counting at the gateway: signals per source and minute, signatures already seen, and
wrong admin tokens per address.

The first two live in Redis (`gateway:rate:*`), so every gateway process shares them; the
lockout is kept by each process.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

from model.keys import Keys

WINDOW = 60


class RateLimiter:
    """Fixed one-minute windows: INCRBY + EXPIRE in one round trip."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.keys = Keys(prefix)

    async def hit(
        self, source: str, per_minute: int, now: float | None = None, *, count: int = 1
    ) -> int | None:
        """Count `count` signals; the seconds to wait when that goes over the limit, else
        None. A request over the limit is refused whole, and still counts."""
        now = time.time() if now is None else now
        window = int(now // WINDOW)
        key = self.keys.gateway_rate(source, window)
        pipe = self.redis.pipeline(transaction=False)
        pipe.incrby(key, count)
        pipe.expire(key, WINDOW * 2)
        total, _ = await pipe.execute()
        if int(total) <= per_minute:
            return None
        return max(1, int((window + 1) * WINDOW - now))


class Replays:
    """Signatures accepted within the window: a signed request is accepted once.

    A signature covers its timestamp, and timestamps are accepted `window` seconds either
    side of the gateway's clock, so each one is kept `2 × window` seconds: as long as it
    could be accepted again.
    """

    def __init__(self, redis: Redis, prefix: str, window: int) -> None:
        self.redis = redis
        self.keys = Keys(prefix)
        self.window = window

    async def first(self, digest: str) -> bool:
        """Remember `digest`; whether this is the first time it is seen."""
        key = self.keys.key(f"gateway:rate:signature:{digest}")
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, self.window * 2)
        seen, _ = await pipe.execute()
        return int(seen) == 1


class Lockout:
    """Wrong tokens per address: `attempts` of them within `seconds` lock the address out
    until `seconds` after the first (every request refused, the right token too)."""

    def __init__(self, attempts: int, seconds: float) -> None:
        self.attempts = attempts
        self.seconds = seconds
        self.failures: dict[str, tuple[float, int]] = {}

    def wait(self, address: str, now: float | None = None) -> int | None:
        """Seconds the address stays locked out, None when it is not."""
        now = time.monotonic() if now is None else now
        start, count = self.failures.get(address, (now, 0))
        if now - start >= self.seconds:
            del self.failures[address]
            return None
        if count < self.attempts:
            return None
        return max(1, int(start + self.seconds - now))

    def failed(self, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if len(self.failures) > 100_000:  # forget the oldest under a spread-out attack
            cutoff = now - self.seconds
            self.failures = {a: f for a, f in self.failures.items() if f[0] > cutoff}
        start, count = self.failures.get(address, (now, 0))
        if now - start >= self.seconds:
            start, count = now, 0
        self.failures[address] = (start, count + 1)
