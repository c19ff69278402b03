"""Polling MT5's `copy_ticks_from`: every tick once, duplicates of a millisecond included."""

from __future__ import annotations

import json
from functools import cache, partial
from itertools import islice
from typing import Any

import numpy as np
import numpy.typing as npt
import redis
import redis.asyncio as aioredis
from hypothesis import given, settings
from hypothesis import strategies as st

from brokers.sim.server import SimServer
from brokers.sim.terminal import SimTerminal
from model.keys import Keys
from model.tick import Tick, decode_tick, encode_tick
from processors.ticks.poller import Cursor, Mt5TickPoller, read_new, ticks_after
from processors.ticks.recorded import read_ticks, recorded_files
from processors.ticks.writer import TickWriter
from tests.conftest import DATA

# copy_ticks_from's record layout, as the MetaTrader5 package returns it
MT5_TICK = np.dtype([
    ("time", "<i8"), ("bid", "<f8"), ("ask", "<f8"), ("last", "<f8"), ("volume", "<u8"),
    ("time_msc", "<i8"), ("flags", "<u4"), ("volume_real", "<f8"),
])  # fmt: skip


def as_rows(ticks: list[Tick]) -> npt.NDArray[np.void]:
    return np.array([tuple(t) for t in ticks], dtype=MT5_TICK)


def copy_ticks_from(rows: npt.NDArray[np.void], second: int, count: int) -> npt.NDArray[np.void]:
    """What a terminal answers: up to `count` ticks from the start of `second` on."""
    start = int(np.searchsorted(rows["time_msc"], second * 1000, side="left"))
    return rows[start : start + count]


def test_the_documented_mt5_answer_is_read_tick_by_tick() -> None:
    examples = json.loads((DATA / "mt5" / "mt5_api_doc_examples.json").read_text())
    doc = [Tick(**row) for row in examples["examples"][0]["rows"]]
    cursor = Cursor(time_msc=doc[2].time_msc, taken=1)
    fresh = ticks_after(as_rows(doc), cursor)
    assert fresh == doc[3:]
    assert cursor == Cursor(time_msc=doc[-1].time_msc, taken=1)
    assert ticks_after(as_rows(doc), cursor) == []


@cache
def recorded() -> list[Tick]:
    return list(islice(read_ticks(recorded_files()["EURUSD"]), 3000))


@settings(max_examples=25, deadline=None)
@given(count=st.integers(min_value=1, max_value=400), polls=st.integers(min_value=5, max_value=60))
def test_polling_in_chunks_yields_every_recorded_tick_once(count: int, polls: int) -> None:
    # the EURUSD recording stamps several ticks with one millisecond (304 times)
    ticks = recorded()
    rows = as_rows(ticks)
    visible = len(rows) // polls  # the terminal receives ticks while we poll
    cursor = Cursor(time_msc=ticks[0].time_msc - 1)
    got: list[Tick] = []
    for poll in range(1, polls + 1):
        known = rows[: poll * visible]
        got += read_new(partial(copy_ticks_from, known), cursor, count) or []
    while len(got) < len(ticks):
        fresh = read_new(partial(copy_ticks_from, rows), cursor, count)
        assert fresh, "polling stalled"
        got += fresh
    assert got == ticks


async def test_a_poller_copies_a_terminal_feed_tick_for_tick(
    redis_client: redis.Redis, redis_url: str
) -> None:
    """The simulator's terminal plays the MT5 terminal: its quotes (stream `src:`) are
    polled while they arrive and written by a TickWriter to `dst:`."""
    SimServer(redis_client, prefix="src:").open_account(6_300_001)
    terminal = SimTerminal(redis_client, prefix="src:")
    assert terminal.initialize(login=6_300_001, server="eaflow-sim")
    ticks = recorded()[:900]
    poller = Mt5TickPoller(terminal, ["EURUSD"], count=100, since=ticks[0].time_msc / 1000)
    client = aioredis.Redis.from_url(redis_url)
    writer = TickWriter(client, "dst:", maxlen=5000)
    for start in range(0, len(ticks), 150):  # the terminal receives ticks between polls
        for tick in ticks[start : start + 150]:
            redis_client.xadd(Keys("src:").ticks("EURUSD"), {"d": encode_tick(tick)})
        await writer.write(poller.poll())
    await writer.write(poller.poll())
    entries: Any = redis_client.xrange(Keys("dst:").ticks("EURUSD"))
    copied = [decode_tick(fields[b"d"]) for _, fields in entries]
    await client.aclose()
    assert copied == list(ticks)
    assert poller.poll() == []
