"""Bars from ticks, as `copy_rates_*` return them: the MetaTrader5 package's structured array.

A bar of timeframe T opens at the start of its period (M1..H12 counted from midnight UTC, the
simulator's server time; D1 at midnight; W1 on Sunday 00:00, as MT5's weekly bars; MN1 on the
1st) and is built from the chart price of its ticks (`chart_mode`: the bid, or the last
price): open, high, low, close; `tick_volume` is the number of ticks; `spread` the smallest
spread of its ticks in points; `real_volume` the sum of their `volume` (0 for quotes only).
Bars are made from the ticks the simulator keeps (the newest ~1000 of each symbol's stream),
so a period without ticks has no bar, as on a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from brokers.mt5 import constants as mt5
from brokers.mt5.records import SymbolInfo
from model.tick import Tick

RATES_DTYPE = np.dtype(
    [
        ("time", "<i8"),
        ("open", "<f8"),
        ("high", "<f8"),
        ("low", "<f8"),
        ("close", "<f8"),
        ("tick_volume", "<u8"),
        ("spread", "<i4"),
        ("real_volume", "<u8"),
    ]
)
TIMEFRAMES = frozenset(value for name, value in vars(mt5).items() if name.startswith("TIMEFRAME_"))
HOURS = 0x4000
WEEKS = 0x8000
MONTHS = 0xC000
SUNDAY_AFTER_EPOCH = 3 * 86_400  # 1970-01-04 was the first Sunday
WEEK = 7 * 86_400

Bar = tuple[int, float, float, float, float, int, int, int]


def period_start(timeframe: int, seconds: int) -> int:
    """Open time of the bar of `timeframe` that holds the moment `seconds`."""
    if timeframe & MONTHS == MONTHS:
        day = datetime.fromtimestamp(seconds, UTC)
        return int(datetime(day.year, day.month, 1, tzinfo=UTC).timestamp())
    if timeframe & WEEKS:
        return seconds - (seconds - SUNDAY_AFTER_EPOCH) % WEEK
    length = (timeframe & ~HOURS) * 3600 if timeframe & HOURS else timeframe * 60
    return seconds - seconds % length


def bars(info: SymbolInfo, timeframe: int, ticks: Iterable[Tick]) -> list[Bar]:
    """The bars of `ticks` (in time order), oldest first."""
    last_price = info.chart_mode == mt5.SYMBOL_CHART_MODE_LAST
    made: list[Bar] = []
    for tick in ticks:
        price = tick.last if last_price else tick.bid
        if price <= 0:
            continue
        start = period_start(timeframe, tick.time_msc // 1000)
        spread = round((tick.ask - tick.bid) / info.point)
        if made and made[-1][0] == start:
            time, open_, high, low, _, count, narrowest, volume = made[-1]
            made[-1] = (
                time,
                open_,
                max(high, price),
                min(low, price),
                price,
                count + 1,
                min(narrowest, spread),
                volume + tick.volume,
            )
        else:
            made.append((start, price, price, price, price, 1, spread, tick.volume))
    return made


def rates_array(rows: Iterable[Bar]) -> npt.NDArray[np.void]:
    """Bars as the structured numpy array `copy_rates_*` return."""
    return np.array(list(rows), dtype=RATES_DTYPE)
