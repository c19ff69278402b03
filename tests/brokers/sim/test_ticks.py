"""The simulator's quotes: the newest valid tick of a symbol, and copy_ticks_from arrays."""

from __future__ import annotations

import numpy as np
import redis

from brokers.sim.ticks import TICK_DTYPE, latest_tick, tick_array
from model.keys import Keys
from model.tick import (
    LOOK_BACK,
    Tick,
    encode_tick,
    newest_tick,
)

# the first EURUSD tick of MetaQuotes' copy_ticks_from example (flags 134)
DOC_TICK = Tick(1578614400, 1.11051, 1.11069, 0.0, 0, 1578614400987, 134, 0.0)


def test_latest_tick_is_the_last_stream_entry(redis_client: redis.Redis) -> None:
    assert latest_tick(redis_client, "ea:", "EURUSD") is None
    older = DOC_TICK._replace(bid=1.1105, time_msc=1578614400000)
    for tick in (older, DOC_TICK):
        redis_client.xadd(Keys("ea:").ticks("EURUSD"), {"d": encode_tick(tick)})
    assert latest_tick(redis_client, "ea:", "EURUSD") == DOC_TICK


def test_malformed_newest_ticks_are_passed_over(redis_client: redis.Redis) -> None:
    """Regression: one garbage tick made every order on its symbol fail in the executor
    until the order was dead-lettered (found by the poison e2e test)."""
    key = Keys("ea:").ticks("EURUSD")
    redis_client.xadd(key, {"d": encode_tick(DOC_TICK)})
    redis_client.xadd(key, {"d": b"garbage"})
    redis_client.xadd(key, {"other": b"field"})
    assert latest_tick(redis_client, "ea:", "EURUSD") == DOC_TICK
    for _ in range(LOOK_BACK):
        redis_client.xadd(key, {"d": b'{"time": 1}'})
    assert latest_tick(redis_client, "ea:", "EURUSD") is None  # no valid quote in reach
    assert newest_tick([]) is None and newest_tick(None) is None


def test_a_client_decoding_responses_reads_ticks_too(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.xadd(Keys("ea:").ticks("EURUSD"), {"d": encode_tick(DOC_TICK)})
    assert latest_tick(client, "ea:", "EURUSD") == DOC_TICK
    client.close()


def test_tick_array_has_the_package_layout() -> None:
    array = tick_array([DOC_TICK, DOC_TICK._replace(time_msc=1578614402025)])
    assert array.dtype == TICK_DTYPE
    assert array["time_msc"].tolist() == [1578614400987, 1578614402025]
    assert array.dtype.names == Tick._fields
    assert tick_array([]).shape == (0,)
    assert np.issubdtype(array["flags"].dtype, np.unsignedinteger)
