"""Replay recorded ticks into `ticks:{symbol}` at real time, ×N, or as fast as possible."""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import structlog
from redis.asyncio import Redis

from brokers.mt5.records import Tick
from brokers.sim.ticks import encode_tick
from processors.ticks.recorded import read_ticks, recorded_files

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ReplayConfig:
    """speed 1 = real time, 10 = ten times faster, 0 = as fast as Redis takes them.

    Tick times are shifted so the replay starts now: the market looks live to the
    simulator, the chart and the results alike.
    """

    speed: float = 1.0
    loop: bool = True
    batch: int = 200
    maxlen: int = 1000
    symbols: tuple[str, ...] = ()


def merged(files: dict[str, Path]) -> Iterator[tuple[str, Tick]]:
    """All symbols' ticks in time order."""
    def tagged(symbol: str, path: Path) -> Iterator[tuple[int, str, Tick]]:
        return ((t.time_msc, symbol, t) for t in read_ticks(path))

    for _, symbol, tick in heapq.merge(*(tagged(s, p) for s, p in files.items())):
        yield symbol, tick


def shifted(tick: Tick, offset_ms: int) -> Tick:
    msc = tick.time_msc + offset_ms
    return tick._replace(time=msc // 1000, time_msc=msc)


class TickReplay:
    """Writes ticks in pipelined batches with approximate MAXLEN, so old ticks purge
    themselves; `on_batch` lets tables and the simulator see each batch."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        config: ReplayConfig = ReplayConfig(),
        on_batch: Callable[[list[tuple[str, Tick]]], object] | None = None,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.config = config
        self.on_batch = on_batch
        self.written = 0

    def files(self) -> dict[str, Path]:
        files = recorded_files()
        wanted = self.config.symbols or tuple(files)
        unknown = [s for s in wanted if s not in files]
        if unknown:
            raise ValueError(f"symbols: no recorded ticks for {', '.join(unknown)}")
        return {s: files[s] for s in wanted}

    async def run(self) -> None:
        while True:
            await self._once(merged(self.files()))
            if not self.config.loop:
                return

    async def _once(self, ticks: Iterable[tuple[str, Tick]]) -> None:
        start_wall = time.time()
        first_ms: int | None = None
        batch: list[tuple[str, Tick]] = []
        for symbol, tick in ticks:
            if first_ms is None:
                first_ms = tick.time_msc
            if self.config.speed:
                due = start_wall + (tick.time_msc - first_ms) / 1000 / self.config.speed
                wait = due - time.time()
                if wait > 0:
                    if batch:
                        await self.write(batch)
                        batch = []
                    await asyncio.sleep(wait)
            batch.append((symbol, shifted(tick, int(start_wall * 1000) - first_ms)))
            if len(batch) >= self.config.batch:
                await self.write(batch)
                batch = []
        if batch:
            await self.write(batch)

    async def write(self, batch: list[tuple[str, Tick]]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for symbol, tick in batch:
            pipe.xadd(f"{self.prefix}ticks:{symbol}", {"d": encode_tick(tick)},
                      maxlen=self.config.maxlen, approximate=True)
        await pipe.execute()
        self.written += len(batch)
        if self.on_batch is not None:
            self.on_batch(batch)
