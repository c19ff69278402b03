"""TickTable on a real Redis: recovery from the stream, updates, retention, bars."""

from __future__ import annotations

from collections.abc import AsyncIterator
from itertools import islice
from typing import Any

import numpy as np
import orjson
import pytest
import redis.asyncio as aioredis

from model.tick import Tick, encode_tick
from processors.ticks.recorded import read_ticks, recorded_files
from processors.ticks.writer import TickWriter
from streams.bars import tumbling_bars
from streams.ring import Ticks, tick_array
from streams.table import TableConfig, TickFieldError, TickTable, entry_id, row_of, ticks_of

PREFIX = "t:"


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


def key_of(symbol: str) -> str:
    return f"{PREFIX}ticks:{symbol}"


def recorded(symbol: str, count: int) -> list[Tick]:
    return list(islice(read_ticks(recorded_files()[symbol]), count))


def as_ticks(ticks: list[Tick]) -> Ticks:
    return tick_array([(t.time_msc, t.bid, t.ask, t.last, 0.0, t.flags) for t in ticks])


async def write(redis: aioredis.Redis, symbol: str, ticks: list[Tick]) -> None:
    writer = TickWriter(redis, PREFIX, maxlen=1000)
    for start in range(0, len(ticks), 250):
        await writer.write([(symbol, t) for t in ticks[start : start + 250]])


async def test_recovery_reads_back_exactly_the_newest_ticks(redis: aioredis.Redis) -> None:
    ticks = recorded("EURUSD", 3000)
    await write(redis, "EURUSD", ticks)
    assert await redis.xlen(key_of("EURUSD")) >= 1000  # MAXLEN ~ trims approximately
    table = TickTable(redis, key_of)
    await table.track({"EURUSD"})
    assert np.array_equal(table.ring("EURUSD").ticks(), as_ticks(ticks[-1000:]))
    assert np.array_equal(table.last("EURUSD", 5), as_ticks(ticks[-5:]))
    assert np.array_equal(table.bars("EURUSD", "1m"), tumbling_bars(as_ticks(ticks[-1000:]), "1m"))


async def test_updates_skip_what_recovery_already_read(redis: aioredis.Redis) -> None:
    ticks = recorded("NZDUSD", 1600)
    await write(redis, "NZDUSD", ticks[:1200])
    table = TickTable(redis, key_of, TableConfig(capacity=500))
    await table.track({"NZDUSD"})
    await write(redis, "NZDUSD", ticks[1200:])
    # the agent may deliver entries the recovery already saw: from the 1,101st tick on
    entries: Any = await redis.xrange(key_of("NZDUSD"), min="-", max="+")
    delivered = entries[-500:]
    ids = [entry for entry, _ in delivered]
    rows = [row_of(orjson.loads(fields[b"d"])) for _, fields in delivered]
    assert table.update("NZDUSD", ids, rows) == 400
    assert np.array_equal(table.ring("NZDUSD").ticks(), as_ticks(ticks[-500:]))
    assert table.update("NZDUSD", ids, rows) == 0


async def test_only_needed_symbols_are_buffered_until_the_grace_ends(
    redis: aioredis.Redis,
) -> None:
    await write(redis, "EURUSD", recorded("EURUSD", 10))
    table = TickTable(redis, key_of, TableConfig(grace=60))
    assert table.update("EURUSD", ["1-0"], [(1, 1.0, 1.1, 0.0, 0.0, 0)]) == 0
    assert await table.track({"EURUSD"}, now=100.0) == []
    assert table.symbols == ["EURUSD"]
    assert await table.track(set(), now=160.0) == []
    assert await table.track(set(), now=160.5) == ["EURUSD"]
    assert "EURUSD" not in table
    with pytest.raises(KeyError, match="symbol: 'EURUSD' is not buffered"):
        table.last("EURUSD", 1)


async def test_a_symbol_without_a_stream_starts_empty_and_fills(redis: aioredis.Redis) -> None:
    table = TickTable(redis, key_of)
    await table.track({"XAUUSD"})
    assert len(table.ring("XAUUSD")) == 0
    ticks = recorded("XAUUSD", 3)
    rows = as_ticks(ticks).tolist()
    assert table.update("XAUUSD", ["5-0", "5-1", "6-0"], rows) == 3
    assert table.ring("XAUUSD").newest_msc() == ticks[-1].time_msc


async def test_bad_entries_are_skipped_and_the_rest_recovered(redis: aioredis.Redis) -> None:
    ticks = recorded("EURUSD", 4)
    await write(redis, "EURUSD", ticks[:2])
    await redis.xadd(key_of("EURUSD"), {"d": b"not json"})
    await redis.xadd(key_of("EURUSD"), {"d": orjson.dumps({"time": 1, "ask": 1.2})})
    await write(redis, "EURUSD", ticks[2:])
    table = TickTable(redis, key_of)
    assert await table.recover("EURUSD") == 4
    assert np.array_equal(table.ring("EURUSD").ticks(), as_ticks(ticks))


def test_rows_name_the_field_at_fault() -> None:
    with pytest.raises(TickFieldError, match="field 'bid' is required"):
        row_of({"time": 1, "ask": 1.2})
    with pytest.raises(TickFieldError, match="not a number"):
        row_of({"time": 1, "bid": "x", "ask": 1.2})
    assert row_of({"time": 2, "bid": 1.0, "ask": 1.5}) == (2000, 1.0, 1.5, 0.0, 0.0, 0)
    assert entry_id(b"1526919030474-55") == (1526919030474, 55)
    assert entry_id("7-0") < entry_id("7-1") < entry_id("10-0")


def test_columns_of_ticks_follow_the_rules_of_rows() -> None:
    ticks = [orjson.loads(encode_tick(t)) for t in recorded("XAUUSD", 50)]
    ticks.append({**ticks[0], "time_msc": 0, "time": 7.9})  # msc from the seconds
    ticks.append({**ticks[0], "volume_real": 0.0, "volume": 3})  # volume when no real one
    ticks.append({**ticks[0], "bid": True, "flags": 2.0})  # numbers as `row_of` takes them
    found = ticks_of([orjson.dumps(t) for t in ticks])
    assert found is not None
    assert found.tolist() == tick_array([row_of(t) for t in ticks]).tolist()
    assert ticks_of([]) is not None


@pytest.mark.parametrize(
    "odd",
    [
        {"bid": None},
        {"bid": "1.5"},
        {"bid": [1]},
        {"bid": {"v": 1}},
        {"flags": -1},
        {"time_msc": 2**60},
        {"extra": 1},
    ],
    ids=["null", "text", "list", "object", "negative flags", "huge msc", "extra field"],
)
def test_columns_of_ticks_leave_odd_ones_to_rows(odd: dict[str, Any]) -> None:
    good = orjson.loads(encode_tick(recorded("EURUSD", 1)[0]))
    assert ticks_of([orjson.dumps(good), orjson.dumps({**good, **odd})]) is None
    missing = {k: v for k, v in good.items() if k != "volume_real"}
    assert ticks_of([orjson.dumps(good), orjson.dumps(missing)]) is None
    assert ticks_of([orjson.dumps(good), b"[1, 2]"]) is None
    assert ticks_of([orjson.dumps(good), b"not json"]) is None


def test_rows_refuse_what_a_ring_cannot_hold() -> None:
    tick = {"time": 1, "bid": 1.0, "ask": 1.5}
    with pytest.raises(TickFieldError, match="flags must be from 0 to 2"):
        row_of({**tick, "flags": -1})
    with pytest.raises(TickFieldError, match="time_msc must fit in 64 bits"):
        row_of({**tick, "time_msc": 2**64})
    with pytest.raises(TickFieldError, match="not a number"):
        row_of({**tick, "bid": 10**400})
