"""`TickWriter`: append ticks to their `ticks:{symbol}` streams, one round trip per batch.

Every tick source (recorded replay, MT5 polling) writes through it. A batch is one EVALSHA
of a small script that XADDs each tick with an approximate MAXLEN, so each stream keeps about
the newest `maxlen` ticks and older ones purge themselves. One command instead of a pipeline
of XADDs, because packing and parsing a command per tick costs redis-py more than Redis's own
work (see bench/bench_ticks.py: about 3× the pipelined XADD rate).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from redis.asyncio import Redis

from model.keys import Keys
from model.tick import Tick, encode_tick

APPEND = """
local maxlen = ARGV[1]
for i = 1, #KEYS do
  redis.call('XADD', KEYS[i], 'MAXLEN', '~', maxlen, '*', 'd', ARGV[i + 1])
end
return #KEYS
"""
"""KEYS: the stream of each tick; ARGV: maxlen, then each tick's entry bytes."""


class TickWriter:
    """Writes `(symbol, tick)` batches; `written` counts ticks per symbol for rate logs."""

    def __init__(self, redis: Redis, prefix: str, maxlen: int = 1000) -> None:
        if maxlen <= 0:
            raise ValueError(f"maxlen: must be positive, got {maxlen}")
        self.prefix = prefix
        self.maxlen = maxlen
        self.written: Counter[str] = Counter()
        self._append = redis.register_script(APPEND)

    async def write(self, batch: Sequence[tuple[str, Tick]]) -> None:
        if not batch:
            return
        keys = [Keys(self.prefix).ticks(symbol) for symbol, _ in batch]
        await self._append(keys=keys, args=[self.maxlen, *(encode_tick(t) for _, t in batch)])
        self.written.update(symbol for symbol, _ in batch)
