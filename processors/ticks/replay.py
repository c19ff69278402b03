"""Replay recorded ticks into `ticks:{symbol}` at real time, ×N, or as fast as possible."""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import structlog
from redis.asyncio import Redis

from model.tick import Tick
from processors.ticks.recorded import read_ticks, recorded_files
from processors.ticks.writer import TickWriter

log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class ReplayConfig:
    """speed 1 = real time, 10 = ten times faster, 0 = as fast as Redis takes them; `loop`
    starts over at the end (else the replay stops); `batch` ticks per pipelined write;
    `maxlen` ticks kept per stream; `symbols` to replay (() = every recorded one).

    Tick times are shifted so the replay starts now: the market looks live to the
    simulator, the chart and the results alike.
    """

    speed: float = 1.0
    loop: bool = True
    batch: int = 200
    maxlen: int = 1000
    symbols: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.speed < 0:
            raise ValueError(f"speed: must be 0 (as fast as possible) or more, got {self.speed}")
        if self.batch <= 0:
            raise ValueError(f"batch: must be positive, got {self.batch}")
        if self.maxlen <= 0:
            raise ValueError(f"maxlen: must be positive, got {self.maxlen}")


def merged(files: dict[str, Path]) -> Iterator[tuple[str, Tick]]:
    """All symbols' ticks in time order, each file shifted to start when the earliest does,
    so recordings of different days (EURUSD on a Tuesday, XAUUSD at a Sunday open) play
    side by side."""
    firsts = {s: next(read_ticks(p)).time_msc for s, p in files.items()}
    origin = min(firsts.values(), default=0)

    def tagged(symbol: str, path: Path) -> Iterator[tuple[int, str, Tick]]:
        offset = origin - firsts[symbol]
        return ((t.time_msc + offset, symbol, shifted(t, offset)) for t in read_ticks(path))

    for _, symbol, tick in heapq.merge(*(tagged(s, p) for s, p in files.items())):
        yield symbol, tick


def shifted(tick: Tick, offset_ms: int) -> Tick:
    msc = tick.time_msc + offset_ms
    return tick._replace(time=msc // 1000, time_msc=msc)


class TickReplay:
    """Writes recorded ticks through a `TickWriter`: pipelined batches with approximate
    MAXLEN, so old ticks purge themselves."""

    def __init__(self, redis: Redis, prefix: str, config: ReplayConfig = ReplayConfig()) -> None:
        self.config = config
        self.writer = TickWriter(redis, prefix, config.maxlen)
        self.last_msc = 0  # newest tick time written: the next pass starts after it

    def files(self) -> dict[str, Path]:
        files = recorded_files()
        wanted = self.config.symbols or tuple(files)
        unknown = [s for s in wanted if s not in files]
        if unknown:
            raise ValueError(f"symbols: no recorded ticks for {', '.join(unknown)}")
        return {s: files[s] for s in wanted}

    async def run(self) -> None:
        """Replay every file once, or forever when `loop` is set."""
        files = self.files()
        while True:
            await self.play(merged(files))
            log.info(
                "ticks.replay.done", ticks=sum(self.writer.written.values()), loop=self.config.loop
            )
            if not self.config.loop:
                return

    async def play(self, ticks: Iterable[tuple[str, Tick]]) -> None:
        """Write `ticks` (in time order) at the configured speed, shifted to start now (or
        just after the previous pass, whose times ran ahead of the clock at high speed)."""
        start_wall = time.time()
        start_ms = max(int(start_wall * 1000), self.last_msc + 1)
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
            batch.append((symbol, shifted(tick, start_ms - first_ms)))
            if len(batch) >= self.config.batch:
                await self.write(batch)
                batch = []
        if batch:
            await self.write(batch)

    async def write(self, batch: list[tuple[str, Tick]]) -> None:
        await self.writer.write(batch)
        self.last_msc = max(self.last_msc, batch[-1][1].time_msc)
