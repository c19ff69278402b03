"""`TickRing`: a fixed-size numpy ring buffer of ticks, the storage of a tick table.

Each slot is one packed record of `TICK_DTYPE` (44 bytes): the newest `capacity` ticks are
kept and older ones are overwritten, so memory per symbol is fixed. Appends take whole
batches (a slice copy, a few ns per tick); reads return copies in time order.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

TICK_DTYPE = np.dtype(
    [
        ("time_msc", np.int64),
        ("bid", np.float64),
        ("ask", np.float64),
        ("last", np.float64),
        ("volume", np.float64),
        ("flags", np.uint32),
    ]
)
"""One tick slot: MT5's tick fields without the redundant `time` (seconds)."""

Ticks = npt.NDArray[np.void]
"""A structured array of `TICK_DTYPE` records, oldest first."""


def tick_array(rows: list[tuple[int, float, float, float, float, int]]) -> Ticks:
    """Rows `(time_msc, bid, ask, last, volume, flags)` as a `TICK_DTYPE` array."""
    return np.array(rows, dtype=TICK_DTYPE)


class TickRing:
    """The newest `capacity` ticks of one symbol, in arrival order.

    Example::

        ring = TickRing(1000)
        ring.extend(tick_array([(1399334400158, 1.38742, 1.38755, 0.0, 0.0, 6)]))
        ring.last(10)["bid"]
    """

    __slots__ = ("_capacity", "_head", "_size", "_slots", "total")

    def __init__(self, capacity: int = 1000) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity: must be positive, got {capacity}")
        self._slots: Ticks = np.zeros(capacity, dtype=TICK_DTYPE)
        self._capacity = capacity
        self._head = 0  # the slot the next tick goes to
        self._size = 0
        self.total = 0  # ticks ever appended, for rates and tests

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def nbytes(self) -> int:
        """Memory of the slots: `capacity * TICK_DTYPE.itemsize`."""
        return int(self._slots.nbytes)

    def __len__(self) -> int:
        return self._size

    def clear(self) -> None:
        self._head = 0
        self._size = 0

    def extend(self, ticks: Ticks) -> None:
        """Append a batch (oldest first); only its newest `capacity` ticks can stay."""
        if ticks.dtype != TICK_DTYPE:
            raise TypeError(f"ticks: expected dtype {TICK_DTYPE}, got {ticks.dtype}")
        count = len(ticks)
        self.total += count
        capacity = self.capacity
        if count >= capacity:
            self._slots[:] = ticks[count - capacity :]
            self._head = 0
            self._size = capacity
            return
        end = self._head + count
        if end <= capacity:
            self._slots[self._head : end] = ticks
        else:
            split = capacity - self._head
            self._slots[self._head :] = ticks[:split]
            self._slots[: count - split] = ticks[split:]
        self._head = end % capacity
        self._size = min(capacity, self._size + count)

    def append(
        self,
        time_msc: int,
        bid: float,
        ask: float,
        last: float = 0.0,
        volume: float = 0.0,
        flags: int = 0,
    ) -> None:
        """Append one tick; prefer `extend` with batches on hot paths."""
        head = self._head
        self._slots[head] = (time_msc, bid, ask, last, volume, flags)
        self._head = head + 1 if head + 1 < self._capacity else 0
        if self._size < self._capacity:
            self._size += 1
        self.total += 1

    def ticks(self) -> Ticks:
        """Every buffered tick, oldest first (a copy)."""
        start = (self._head - self._size) % self.capacity
        if start + self._size <= self.capacity:
            return self._slots[start : start + self._size].copy()
        return np.concatenate((self._slots[start:], self._slots[: self._head]))

    def last(self, n: int) -> Ticks:
        """The newest `n` ticks (fewer when fewer are buffered), oldest first."""
        if n < 0:
            raise ValueError(f"n: must not be negative, got {n}")
        n = min(n, self._size)
        start = (self._head - n) % self.capacity
        if start + n <= self.capacity:
            return self._slots[start : start + n].copy()
        return np.concatenate((self._slots[start:], self._slots[: self._head]))

    def window(self, start_msc: int, end_msc: int) -> Ticks:
        """Ticks with `start_msc <= time_msc < end_msc`, oldest first."""
        ticks = self.ticks()
        times = ticks["time_msc"]
        lo, hi = np.searchsorted(times, (start_msc, end_msc), side="left")
        return ticks[lo:hi]

    def newest_msc(self) -> int | None:
        """Time of the newest tick, None when empty."""
        if not self._size:
            return None
        return int(self._slots[(self._head - 1) % self.capacity]["time_msc"])
