"""The MT5 tick source: poll a terminal's `copy_ticks_from` / `symbol_info_tick` for new ticks.

A terminal pushes nothing to Python, so the feed asks it every `interval` for the ticks
that arrived since the newest one it has seen, and writes them to `ticks:{symbol}`
through a `TickWriter`. Works with any MetaTrader5-shaped module (the real package,
mt5linux, the simulator's `SimTerminal`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import structlog

from brokers.mt5 import constants as mt5
from brokers.mt5.api import MT5Api
from model.tick import Tick
from processors.ticks.writer import TickWriter

log = structlog.get_logger(__name__)


@dataclass
class Cursor:
    """The newest tick time seen for a symbol and how many ticks of that millisecond were
    already taken (MT5 can stamp several ticks with one `time_msc`)."""

    time_msc: int = 0
    taken: int = 0


def ticks_after(rows: npt.NDArray[np.void], cursor: Cursor) -> list[Tick]:
    """The ticks of a `copy_ticks_from` array newer than `cursor`; advances the cursor."""
    if not len(rows):
        return []
    times = rows["time_msc"]
    start = int(np.searchsorted(times, cursor.time_msc, side="left"))
    same = int(np.searchsorted(times, cursor.time_msc, side="right")) - start
    start += min(same, cursor.taken)
    fresh = [Tick(*row) for row in rows[start:][list(Tick._fields)].tolist()]
    if fresh:
        newest = fresh[-1].time_msc
        taken = sum(1 for t in fresh if t.time_msc == newest)
        cursor.taken = taken + (cursor.taken if newest == cursor.time_msc else 0)
        cursor.time_msc = newest
    return fresh


Copier = Callable[[int, int], "npt.NDArray[np.void] | None"]
"""`(from_second, count) -> rows`: `copy_ticks_from` bound to one symbol."""


def read_new(copy: Copier, cursor: Cursor, count: int) -> list[Tick] | None:
    """Every tick newer than `cursor`, asked `count` at a time from the second of the newest
    one seen, until the terminal answers less than asked; None when it has no ticks to give.
    `from` is in whole seconds, so a second busier than `count` is asked again with a larger
    count instead of stalling on it."""
    found: list[Tick] = []
    size = count
    while True:
        rows = copy(cursor.time_msc // 1000, size)
        if rows is None:
            return found or None
        fresh = ticks_after(rows, cursor)
        found += fresh
        if len(rows) < size:
            return found
        if not fresh:
            size *= 2


@dataclass
class Mt5TickPoller:
    """Polls `symbols` on one terminal; the first poll starts at `since` (default: now).

    Each poll asks `copy_ticks_from(symbol, second of the newest tick, count, COPY_TICKS_ALL)`
    until the answer is short, keeping what is newer; when the terminal answers None (no
    history for the symbol), it falls back to `symbol_info_tick`.
    """

    module: MT5Api
    symbols: Sequence[str]
    count: int = 1000
    since: float | None = None
    cursors: dict[str, Cursor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.count <= 0:
            raise ValueError(f"count: must be positive, got {self.count}")
        start_msc = int((time.time() if self.since is None else self.since) * 1000)
        for symbol in self.symbols:
            self.cursors.setdefault(symbol, Cursor(time_msc=start_msc - 1, taken=0))

    def poll(self) -> list[tuple[str, Tick]]:
        """New ticks of every symbol since the previous poll (blocking: terminal IPC)."""
        found: list[tuple[str, Tick]] = []
        for symbol in self.symbols:
            found.extend((symbol, tick) for tick in self.poll_symbol(symbol))
        return found

    def poll_symbol(self, symbol: str) -> list[Tick]:
        cursor = self.cursors[symbol]
        fresh = read_new(
            lambda second, count: self.module.copy_ticks_from(
                symbol, second, count, mt5.COPY_TICKS_ALL
            ),
            cursor,
            self.count,
        )
        if fresh is not None:
            return fresh
        tick = self.module.symbol_info_tick(symbol)
        if tick is None or tick.time_msc <= cursor.time_msc:
            return []
        cursor.time_msc, cursor.taken = tick.time_msc, 1
        return [tick]


async def poll_forever(poller: Mt5TickPoller, writer: TickWriter, interval: float = 0.1) -> None:
    """Poll on a worker thread and write what arrives, until cancelled; a failed poll is
    logged and retried at the next interval."""
    while True:
        started = time.monotonic()
        try:
            batch = await asyncio.to_thread(poller.poll)
            await writer.write(batch)
        except Exception as error:  # a feed outlives a bad poll
            log.warning("ticks.poll_failed", error=str(error))
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
