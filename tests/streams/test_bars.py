"""Tumbling bars against DuckDB computing the same bars over the same real ticks."""

from __future__ import annotations

from functools import cache

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from processors.ticks.recorded import read_ticks, recorded_files
from streams.bars import BAR_DTYPE, tumbling_bars, width_ms
from streams.ring import Ticks, tick_array


@cache
def recorded(symbol: str) -> Ticks:
    path = recorded_files()[symbol]
    return tick_array([(t.time_msc, t.bid, t.ask, 0.0, 0.0, t.flags) for t in read_ticks(path)])


def duckdb_bars(ticks: Ticks, width: int) -> np.ndarray:
    """OHLC of bid, spread range and tick count per bar, in SQL; `seq` keeps arrival order."""
    quotes = pa.table(
        {
            "seq": np.arange(len(ticks)),
            "time_msc": ticks["time_msc"],
            "bid": ticks["bid"],
            "ask": ticks["ask"],
        }
    )
    db = duckdb.connect()
    db.register("quotes", quotes)
    rows = db.sql(f"""
        SELECT time_msc // {width} * {width} AS start,
               arg_min(bid, seq), max(bid), min(bid), arg_max(bid, seq),
               min(ask - bid), max(ask - bid), count(*)
        FROM quotes GROUP BY start ORDER BY start
    """).fetchall()
    return np.array(rows, dtype=BAR_DTYPE)


@pytest.mark.parametrize("symbol", ["EURUSD", "XAUUSD"])
@pytest.mark.parametrize("width", ["1s", "1m", "5m", 37_000])
def test_bars_equal_an_independent_sql_computation_to_the_last_digit(
    symbol: str, width: str | int
) -> None:
    ticks = recorded(symbol)
    bars = tumbling_bars(ticks, width)
    expected = duckdb_bars(ticks, width_ms(width))
    assert len(bars) == len(expected)
    for field in BAR_DTYPE.names or ():
        assert np.array_equal(bars[field], expected[field]), field
    assert bars["ticks"].sum() == len(ticks)


def test_quiet_minutes_have_no_bar() -> None:
    bars = tumbling_bars(recorded("EURUSD"), "1m")
    gaps = np.diff(bars["time_msc"])
    assert (gaps % 60_000 == 0).all()
    assert (gaps > 60_000).any()  # the recording has quiet minutes; MT5 has no bar for them


def test_no_ticks_no_bars_and_bad_widths_are_named() -> None:
    assert len(tumbling_bars(recorded("EURUSD")[:0], "1m")) == 0
    with pytest.raises(ValueError, match="width: unknown bar width '2m'"):
        tumbling_bars(recorded("EURUSD")[:5], "2m")
    with pytest.raises(ValueError, match="width: must be a positive"):
        width_ms(0)
