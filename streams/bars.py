"""Tumbling bars (OHLC of bid, spread, tick count) computed from a window of ticks.

Bars are aligned to multiples of their width since the Unix epoch (a 1-minute bar starts
at :00 of a minute, as MT5's M1 bars do) and only bars that hold ticks exist, as in MT5
history, where a quiet minute has no bar. The spread is `ask - bid` in price units; its
minimum and maximum over the bar are exact, unlike a mean.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from streams.ring import Ticks

BAR_DTYPE = np.dtype(
    [
        ("time_msc", np.int64),  # bar start
        ("open", np.float64),
        ("high", np.float64),
        ("low", np.float64),
        ("close", np.float64),
        ("spread_min", np.float64),
        ("spread_max", np.float64),
        ("ticks", np.int64),
    ]
)

Bars = npt.NDArray[np.void]

SECOND = 1_000
MINUTE = 60 * SECOND
WIDTHS = {"1s": SECOND, "1m": MINUTE, "5m": 5 * MINUTE, "15m": 15 * MINUTE, "1h": 60 * MINUTE}
"""Bar widths in milliseconds by name; any positive width works."""


def width_ms(width: str | int) -> int:
    """`"1m"` or `60000` → 60000; a clear error for anything else."""
    if isinstance(width, str):
        if width not in WIDTHS:
            raise ValueError(f"width: unknown bar width {width!r} (use {', '.join(WIDTHS)})")
        return WIDTHS[width]
    if width <= 0:
        raise ValueError(f"width: must be a positive number of milliseconds, got {width}")
    return width


def tumbling_bars(ticks: Ticks, width: str | int) -> Bars:
    """One bar per `width` that holds ticks, oldest first; `ticks` must be in time order."""
    size = width_ms(width)
    if not len(ticks):
        return np.zeros(0, dtype=BAR_DTYPE)
    starts = ticks["time_msc"] // size * size
    first = np.concatenate(([0], np.flatnonzero(np.diff(starts)) + 1))
    last = np.concatenate((first[1:], [len(ticks)])) - 1
    bid = ticks["bid"]
    spread = ticks["ask"] - bid
    bars = np.empty(len(first), dtype=BAR_DTYPE)
    bars["time_msc"] = starts[first]
    bars["open"] = bid[first]
    bars["high"] = np.maximum.reduceat(bid, first)
    bars["low"] = np.minimum.reduceat(bid, first)
    bars["close"] = bid[last]
    bars["spread_min"] = np.minimum.reduceat(spread, first)
    bars["spread_max"] = np.maximum.reduceat(spread, first)
    bars["ticks"] = last - first + 1
    return bars
