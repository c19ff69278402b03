"""`TickWriter`: append ticks to their `ticks:{symbol}` streams in pipelined batches.

Every tick source (recorded replay, MT5 polling) writes through it: one round trip per batch,
XADD with an approximate MAXLEN so each stream keeps about the newest `maxlen` ticks and older
ones purge themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from redis.asyncio import Redis

from brokers.mt5.records import Tick
from brokers.sim.ticks import encode_tick, tick_key


class TickWriter:
    """Writes `(symbol, tick)` batches; `written` counts ticks per symbol for rate logs."""

    def __init__(self, redis: Redis, prefix: str, maxlen: int = 1000) -> None:
        if maxlen <= 0:
            raise ValueError(f"maxlen: must be positive, got {maxlen}")
        self.redis = redis
        self.prefix = prefix
        self.maxlen = maxlen
        self.written: Counter[str] = Counter()

    async def write(self, batch: Sequence[tuple[str, Tick]]) -> None:
        if not batch:
            return
        pipe = self.redis.pipeline(transaction=False)
        for symbol, tick in batch:
            pipe.xadd(
                tick_key(self.prefix, symbol),
                {"d": encode_tick(tick)},
                maxlen=self.maxlen,
                approximate=True,
            )
        await pipe.execute()
        self.written.update(symbol for symbol, _ in batch)
