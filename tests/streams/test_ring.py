"""TickRing against plain numpy slicing of real recorded ticks."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.ticks.recorded import read_ticks, recorded_files
from streams.ring import TICK_DTYPE, TickRing, Ticks, tick_array


@cache
def eurusd(count: int = 5000) -> Ticks:
    """The first `count` real EURUSD ticks of the shipped recording."""
    rows = []
    for tick in read_ticks(recorded_files()["EURUSD"]):
        rows.append((tick.time_msc, tick.bid, tick.ask, tick.last, 0.0, tick.flags))
        if len(rows) == count:
            break
    return tick_array(rows)


def test_a_slot_is_at_most_64_bytes() -> None:
    ring = TickRing(1000)
    assert TICK_DTYPE.itemsize == 44
    assert ring.nbytes == 44_000


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(min_value=0, max_value=1300), min_size=1, max_size=12))
def test_batches_of_any_size_keep_exactly_the_newest_ticks(sizes: list[int]) -> None:
    ticks = eurusd()
    ring = TickRing(1000)
    written = 0
    for size in sizes:
        batch = ticks[written : written + size]
        ring.extend(batch)
        written += len(batch)
    expected = ticks[max(0, written - 1000) : written]
    assert len(ring) == len(expected)
    assert ring.total == written
    assert np.array_equal(ring.ticks(), expected)
    assert np.array_equal(ring.last(7), expected[-7:])
    assert ring.newest_msc() == (int(expected[-1]["time_msc"]) if written else None)


def test_one_tick_at_a_time_equals_batches() -> None:
    ticks = eurusd()[:2345]
    single, batched = TickRing(1000), TickRing(1000)
    for row in ticks:
        single.append(*row.item())
    batched.extend(ticks)
    assert np.array_equal(single.ticks(), batched.ticks())
    assert np.array_equal(single.ticks(), ticks[-1000:])


def test_last_n_beyond_what_is_buffered_returns_everything() -> None:
    ring = TickRing(1000)
    ring.extend(eurusd()[:10])
    assert np.array_equal(ring.last(50), eurusd()[:10])
    assert len(ring.last(0)) == 0


def test_time_window_matches_a_mask_over_the_same_ticks() -> None:
    ticks = eurusd()
    ring = TickRing(1000)
    ring.extend(ticks[:1700])
    held = ticks[700:1700]
    times = held["time_msc"]
    for start, end in ((times[0], times[-1] + 1), (times[100], times[400]), (0, times[0])):
        mask = (times >= start) & (times < end)
        assert np.array_equal(ring.window(int(start), int(end)), held[mask])


def test_bad_arguments_name_the_field() -> None:
    with pytest.raises(ValueError, match="capacity"):
        TickRing(0)
    with pytest.raises(TypeError, match="ticks: expected dtype"):
        TickRing(10).extend(np.zeros(3, dtype=np.float64))
    with pytest.raises(ValueError, match="n: must not be negative"):
        TickRing(10).last(-1)
