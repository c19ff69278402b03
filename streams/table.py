"""`TickTable`: windowed tick buffers per symbol, recoverable from their own streams.

Faust keeps a table's state in a changelog topic; a tick table needs none, because the
tick stream itself (`ticks:{symbol}`, capped near the table's size) is its changelog: a
symbol that starts being buffered, or a worker that restarts, reads its window back with
one XREVRANGE. Only symbols somebody needs are buffered (`track`): the rest are dropped
from memory after a grace period, and their ticks are ignored until they are needed again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
import orjson
import structlog
from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis

from streams.bars import Bars, tumbling_bars
from streams.ring import TICK_DTYPE, TickRing, Ticks, tick_array

log = structlog.get_logger(__name__)

Row = tuple[int, float, float, float, float, int]
EntryId = tuple[int, int]


class TableConfig(BaseModel):
    """How many ticks each symbol keeps and how long an unneeded symbol stays in memory."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    capacity: int = Field(1000, gt=0, description="Ring slots per symbol (newest ticks kept).")
    grace: float = Field(
        60.0, ge=0, description="Seconds a symbol stays buffered after it stops being needed."
    )


class TickFieldError(ValueError):
    """A tick entry lacks a field or holds a non-number; the message names the field."""


def row_of(tick: Mapping[str, Any]) -> Row:
    """A tick dict (the `d` of a tick entry) as a ring row `(time_msc, bid, ask, last,
    volume, flags)`; `time_msc` falls back to `time * 1000`, volume prefers `volume_real`."""
    try:
        msc = tick.get("time_msc") or int(tick["time"]) * 1000
        volume = tick.get("volume_real") or tick.get("volume") or 0.0
        row = (
            int(msc),
            float(tick["bid"]),
            float(tick["ask"]),
            float(tick.get("last", 0.0)),
            float(volume),
            int(tick.get("flags", 0)),
        )
    except KeyError as error:
        raise TickFieldError(f"tick: field {error.args[0]!r} is required") from None
    except (TypeError, ValueError, OverflowError) as error:
        raise TickFieldError(f"tick: a field is not a number ({error})") from None
    if not -(2**63) <= row[0] < 2**63:
        raise TickFieldError(f"tick: time_msc must fit in 64 bits, got {row[0]}")
    if not 0 <= row[5] < 2**32:
        raise TickFieldError(f"tick: flags must be from 0 to 2**32 - 1, got {row[5]}")
    return row


TICK_FIELDS = itemgetter("time", "bid", "ask", "last", "volume", "time_msc", "flags", "volume_real")
"""Every field of a tick entry as `model.tick.encode_tick` writes it, in `ticks_of`'s order."""

QUOTES = 2 * 8
"""Quote marks in a tick entry whose eight fields are all numbers: its keys' only."""

EXACT = 2.0**53
"""Magnitudes a float64 holds exactly as integers: columns beyond it are left to rows."""


def ticks_of(payloads: Sequence[bytes]) -> Ticks | None:
    """Tick entries' payloads as ring records in one pass, `row_of`'s rules applied to whole
    columns (several hundred ns per tick less than a row each). None unless every payload
    is a JSON object holding each field of `TICK_FIELDS` as a number (no text: the quote
    marks are the keys' only), in range: decode those one by one with `row_of`, which
    names the fault."""
    count = len(payloads)
    if b"".join(payloads).count(b'"') != QUOTES * count:
        return None
    try:
        ticks = list(map(orjson.loads, payloads))
        flat = np.fromiter(chain.from_iterable(map(TICK_FIELDS, ticks)), np.float64, 8 * count)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    values = flat.reshape(count, 8)
    flags, time_s = values[:, 6], values[:, 0]
    in_range = (np.abs(flat) < EXACT).all() and (np.abs(time_s) < EXACT / 1000).all()
    if not in_range or not ((flags >= 0) & (flags < 2**32)).all():  # NaN (a null) fails too
        return None
    found = np.empty(count, TICK_DTYPE)
    msc, volume_real = values[:, 5], values[:, 7]
    found["time_msc"] = np.where(msc != 0, msc, np.trunc(time_s) * 1000)
    found["bid"], found["ask"], found["last"] = values[:, 1], values[:, 2], values[:, 3]
    found["volume"] = np.where(volume_real != 0, volume_real, values[:, 4])
    found["flags"] = flags
    return found


def entry_id(raw: str | bytes) -> EntryId:
    """`"1526919030474-55"` → `(1526919030474, 55)`, ordered as Redis orders ids."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


class TickTable:
    """One `TickRing` per buffered symbol, fed with stream entries in id order.

    Example::

        table = TickTable(redis, lambda s: f"ea:ticks:{s}")
        await table.track({"EURUSD"})          # recovers EURUSD's window from the stream
        table.update("EURUSD", ids, rows)      # from the ticks agent, per batch
        table.bars("EURUSD", "1m")
    """

    def __init__(
        self,
        redis: Redis,
        key_of: Callable[[str], str],
        config: TableConfig | None = None,
    ) -> None:
        self.redis = redis
        self.key_of = key_of
        self.config = config or TableConfig()
        self._rings: dict[str, TickRing] = {}
        self._seen: dict[str, EntryId] = {}  # newest entry id applied per symbol
        self._needed: dict[str, float] = {}  # symbol → when it was last needed

    @property
    def symbols(self) -> list[str]:
        return sorted(self._rings)

    @property
    def nbytes(self) -> int:
        return sum(ring.nbytes for ring in self._rings.values())

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._rings

    def ring(self, symbol: str) -> TickRing:
        """The symbol's buffer; KeyError names a symbol that is not buffered."""
        try:
            return self._rings[symbol]
        except KeyError:
            raise KeyError(f"symbol: {symbol!r} is not buffered") from None

    async def track(self, needed: Iterable[str], now: float | None = None) -> list[str]:
        """Mark `needed` symbols as needed now, recover the new ones from their streams and
        drop those not needed for longer than the grace period; returns the dropped ones."""
        now = time.monotonic() if now is None else now
        for symbol in needed:
            self._needed[symbol] = now
            if symbol not in self._rings:
                await self.recover(symbol)
        expired = [s for s, seen in self._needed.items() if now - seen > self.config.grace]
        for symbol in expired:
            del self._needed[symbol]
            self._rings.pop(symbol, None)
            self._seen.pop(symbol, None)
        if expired:
            log.info("ticks.table.dropped", symbols=expired)
        return expired

    async def recover(self, symbol: str) -> int:
        """Refill the symbol's ring from the newest entries of its stream (XREVRANGE)."""
        entries: Any = await self.redis.xrevrange(  # [(id, {b"d": tick json})], newest first
            self.key_of(symbol), count=self.config.capacity
        )
        ring = TickRing(self.config.capacity)
        rows = []
        for _, fields in reversed(entries):
            try:
                rows.append(row_of(orjson.loads(fields[b"d"])))
            except (KeyError, orjson.JSONDecodeError, TickFieldError) as error:
                log.warning("ticks.table.bad_entry", symbol=symbol, error=str(error))
        if rows:
            ring.extend(tick_array(rows))
        self._rings[symbol] = ring
        self._seen[symbol] = entry_id(entries[0][0]) if entries else (0, 0)
        log.info("ticks.table.recovered", symbol=symbol, ticks=len(rows))
        return len(rows)

    def update(self, symbol: str, ids: Sequence[str | bytes], rows: Sequence[Row]) -> int:
        """`extend` with rows."""
        if symbol not in self._rings or not rows:
            return 0
        return self.extend(symbol, ids, tick_array(list(rows)))

    def extend(self, symbol: str, ids: Sequence[str | bytes], ticks: Ticks) -> int:
        """Append a batch of entries (ids ascending) when the symbol is buffered; entries
        the ring already holds (read back by `recover`) are skipped. Returns ticks added."""
        ring = self._rings.get(symbol)
        if ring is None or not len(ticks):
            return 0
        seen = self._seen[symbol]
        start = 0
        if entry_id(ids[0]) <= seen:
            while start < len(ids) and entry_id(ids[start]) <= seen:
                start += 1
            if start == len(ids):
                return 0
        ring.extend(ticks[start:] if start else ticks)
        self._seen[symbol] = entry_id(ids[-1])
        return len(ticks) - start

    def last(self, symbol: str, n: int) -> Ticks:
        return self.ring(symbol).last(n)

    def window(self, symbol: str, start_msc: int, end_msc: int) -> Ticks:
        return self.ring(symbol).window(start_msc, end_msc)

    def bars(self, symbol: str, width: str | int) -> Bars:
        """Tumbling bars over every buffered tick of the symbol (the oldest may be partial)."""
        return tumbling_bars(self.ring(symbol).ticks(), width)
