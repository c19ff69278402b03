"""`TickWriter`: append ticks to their `ticks:{symbol}` streams, one round trip per batch.

Every tick source (recorded replay, MT5 polling) writes through it. A batch is one EVALSHA
of a small script that XADDs each tick with an approximate MAXLEN, so each stream keeps about
the newest `maxlen` ticks and older ones purge themselves. One command instead of a pipeline
of XADDs, and one argument per symbol (its ticks' entries joined by newlines, which JSON
never holds), because packing an argument costs redis-py more than Redis's own work per
tick (see bench/bench_ticks.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from redis.asyncio import Redis

from model.keys import Keys
from model.tick import Tick, encode_tick

APPEND = """
local maxlen, n = ARGV[1], 0
for i = 1, #KEYS do
  for entry in string.gmatch(ARGV[i + 1], '[^\\n]+') do
    redis.call('XADD', KEYS[i], 'MAXLEN', '~', maxlen, '*', 'd', entry)
    n = n + 1
  end
end
return n
"""
"""KEYS: each symbol's stream; ARGV: maxlen, then each symbol's entries, newline-joined."""


class TickWriter:
    """Writes `(symbol, tick)` batches; `written` counts ticks per symbol for rate logs."""

    def __init__(self, redis: Redis, prefix: str, maxlen: int = 1000) -> None:
        if maxlen <= 0:
            raise ValueError(f"maxlen: must be positive, got {maxlen}")
        self.prefix = prefix
        self.keys = Keys(prefix)
        self.maxlen = maxlen
        self.written: Counter[str] = Counter()
        self._append = redis.register_script(APPEND)

    async def write(self, batch: Sequence[tuple[str, Tick]]) -> None:
        if not batch:
            return
        entries: dict[str, list[bytes]] = {}
        for symbol, tick in batch:
            entries.setdefault(symbol, []).append(encode_tick(tick))
        keys = [self.keys.ticks(symbol) for symbol in entries]
        await self._append(keys=keys, args=[self.maxlen, *map(b"\n".join, entries.values())])
        self.written.update({symbol: len(found) for symbol, found in entries.items()})
