"""`LatestTicks`: the router's newest tick per symbol, kept current by one blocking XREAD.

Planning an open needs the symbol's latest price. Reading it per signal (XREVRANGE) costs a
round trip on the signal's path; instead a background task follows the tick streams of the
symbols the router has priced, so the price is in memory, at most one XREAD wake-up behind
the stream. A symbol seen for the first time, or any symbol while the follower is not
following (not started, Redis lost), is read from its stream as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import structlog
from redis.asyncio import Redis

from model.tick import Tick, TickFormatError, decode_tick

log = structlog.get_logger(__name__)


LOOK_BACK = 10
"""Entries read back past malformed ticks for a symbol's newest valid one."""


def newest_valid(symbol: str, entries: Any) -> Tick | None:
    """The newest tick of an XREVRANGE reply that decodes: a malformed tick (a feed glitch,
    a hand-written entry) must not fail every signal for the symbol; None when none does."""
    for entry_id, fields in entries or ():
        try:
            return decode_tick(fields[b"d"])
        except (KeyError, TickFormatError) as error:
            log.warning("router.bad_tick", symbol=symbol, id=entry_id, error=str(error))
    return None


class LatestTicks:
    """Example: ``prices = LatestTicks(redis, topics.keys.ticks)``; ``app.task(prices.run)``;
    ``tick = await prices.get("EURUSD")``."""

    def __init__(self, redis: Redis, key_of: Callable[[str], str], block_ms: int = 1000) -> None:
        self.redis = redis
        self.key_of = key_of
        self.block_ms = block_ms
        self._ticks: dict[str, Tick | None] = {}  # symbol → newest tick (None: stream empty)
        self._ids: dict[str, bytes | str] = {}  # symbol → id of the newest entry seen
        self._following: set[str] = set()  # symbols of the XREAD in flight
        self._first = asyncio.Event()  # set once there is a symbol to follow

    def following(self, symbol: str) -> bool:
        """Whether a new tick of `symbol` would reach memory without a read."""
        return symbol in self._following

    async def get(self, symbol: str) -> Tick | None:
        """The newest tick of `symbol`: from memory when followed, else from its stream."""
        if symbol in self._following:
            return self._ticks[symbol]
        entries: Any = await self.redis.xrevrange(self.key_of(symbol), count=LOOK_BACK)
        tick = newest_valid(symbol, entries)
        if symbol not in self._ids or entries:
            self._ticks[symbol] = tick
            self._ids[symbol] = entries[0][0] if entries else "0-0"
            self._first.set()
        return tick

    async def run(self) -> None:
        """Follow every priced symbol until cancelled (the app's task)."""
        delay = 0.1
        await self._first.wait()
        while True:
            try:
                await self._follow()
                delay = 0.1
            except Exception as error:  # Redis lost: signals read prices themselves meanwhile
                self._following = set()
                log.warning("router.prices_unavailable", error=str(error))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _follow(self) -> None:
        symbols = dict(self._ids)
        self._following = set(symbols)
        streams: dict[Any, Any] = {self.key_of(s): i for s, i in symbols.items()}
        reply: Any = await self.redis.xread(streams, block=self.block_ms)
        by_key = {self.key_of(s): s for s in symbols}
        for key, entries in reply or ():
            symbol = by_key[key.decode() if isinstance(key, bytes) else key]
            newest_id, fields = entries[-1]
            self._ids[symbol] = newest_id
            try:
                self._ticks[symbol] = decode_tick(fields[b"d"])
            except (KeyError, TickFormatError) as error:  # the next good tick replaces it
                log.warning("router.bad_tick", symbol=symbol, id=newest_id, error=str(error))
