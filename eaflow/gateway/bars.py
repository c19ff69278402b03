"""OHLC bars of a symbol's bid for the charts, from the ticks in `ticks:{symbol}`.

Bars start at multiples of their width since the epoch and only bars holding ticks exist,
as in MT5 history. Volume is the tick count (FX quotes carry no traded volume).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis

from model.keys import Keys
from model.tick import TickFormatError, decode_tick

RESOLUTIONS = {
    "1S": 1,
    "5S": 5,
    "15S": 15,
    "1": 60,
    "5": 300,
    "15": 900,
    "30": 1800,
    "60": 3600,
    "240": 14_400,
    "1D": 86_400,
}
ALIASES = {"D": "1D", "1M": "1", "1H": "60", "4H": "240"}


def resolution_seconds(resolution: str) -> int:
    """UDF resolution (`1S`, `1`, `60`, `1D`) → seconds; ValueError names the known ones."""
    key = ALIASES.get(resolution.upper(), resolution.upper())
    if key not in RESOLUTIONS:
        raise ValueError(
            f"resolution: unknown '{resolution[:16]}' (known: {', '.join(RESOLUTIONS)})"
        )
    return RESOLUTIONS[key]


@dataclass(frozen=True)
class Bar:
    time: int  # bar start, unix seconds
    open: float
    high: float
    low: float
    close: float
    volume: int


class BarSource(Protocol):
    """Where charts get bars: the tick stream now, the tick tables when they hold them."""

    async def bars(self, symbol: str, seconds: int) -> list[Bar]: ...

    async def symbols(self) -> list[str]: ...


def aggregate(ticks: list[tuple[int, float]], seconds: int) -> list[Bar]:
    """(time_msc, bid) in time order → bars of `seconds`."""
    bars: list[Bar] = []
    width = seconds * 1000
    for msc, bid in ticks:
        start = msc // width * seconds
        last = bars[-1] if bars else None
        if last is not None and last.time == start:
            bars[-1] = Bar(
                start, last.open, max(last.high, bid), min(last.low, bid), bid, last.volume + 1
            )
        elif last is None or start > last.time:
            bars.append(Bar(start, bid, bid, bid, bid, 1))
    return bars


class StreamBars:
    """Reads the whole (capped) tick stream: about 1,000 ticks per symbol."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.keys = Keys(prefix)

    async def ticks(self, symbol: str) -> list[tuple[int, float]]:
        entries: Any = await self.redis.xrange(self.keys.ticks(symbol))
        ticks = []
        for _, fields in entries:
            try:
                tick = decode_tick(fields.get(b"d", b""))
            except TickFormatError:
                continue
            ticks.append((tick.time_msc, tick.bid))
        ticks.sort(key=lambda t: t[0])
        return ticks

    async def bars(self, symbol: str, seconds: int) -> list[Bar]:
        return aggregate(await self.ticks(symbol), seconds)

    async def symbols(self) -> list[str]:
        """Symbols that have a tick stream."""
        pattern = self.keys.ticks("*")
        found = [
            key.decode()[len(pattern) - 1 :]
            async for key in self.redis.scan_iter(match=pattern, count=1000, _type="stream")
        ]
        return sorted(found)
