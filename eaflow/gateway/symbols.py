"""Which symbols charts can show: the instances' broker symbols and every tick stream."""

from __future__ import annotations

import time

from fastapi import Request

from brokers.mt5.records import SymbolInfo
from eaflow.gateway.bars import BarSource
from eaflow.gateway.context import Gateway
from model.tick import TickFormatError, entry_tick


def decimals(price: float) -> int:
    text = repr(price)
    return len(text.partition(".")[2]) if "e" not in text else 5


class ChartSymbols:
    """Symbol specs as the executors published them, cached for a few seconds."""

    def __init__(self, gw: Gateway, bars: BarSource, ttl: float = 5.0) -> None:
        self.gw = gw
        self.bars = bars
        self.ttl = ttl
        self._known: dict[str, SymbolInfo | None] = {}
        self._at = 0.0

    async def known(self) -> dict[str, SymbolInfo | None]:
        if self._known and time.monotonic() - self._at < self.ttl:
            return self._known
        found: dict[str, SymbolInfo | None] = {}
        for instance in await self.gw.registry.all():
            for name, info in (await self.gw.registry.symbols(instance)).items():
                found.setdefault(name, info)
        for name in await self.bars.symbols():
            found.setdefault(name, None)
        self._known, self._at = found, time.monotonic()
        return found

    async def digits(self, symbol: str) -> int:
        """Digits of a symbol without a spec: read off its latest quote (5 when none)."""
        try:
            tick = entry_tick(await self.gw.redis.xrevrange(self.gw.keys.ticks(symbol), count=1))
        except TickFormatError:
            return 5
        return 5 if tick is None else max(decimals(tick.bid), decimals(tick.ask))


async def chart_symbols(request: Request) -> ChartSymbols:
    """FastAPI dependency: the app's ChartSymbols."""
    found: ChartSymbols = request.app.state.symbols
    return found
