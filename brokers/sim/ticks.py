"""The simulator's quotes: a symbol's newest valid tick read from Redis, and tick arrays in
`copy_ticks_from`'s layout. The entry format itself is `model.tick`'s."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt
import redis

from model.keys import Keys
from model.tick import LOOK_BACK, Tick, newest_tick

# copy_ticks_from's record layout in the MetaTrader5 package
TICK_DTYPE = np.dtype(
    [
        ("time", "<i8"),
        ("bid", "<f8"),
        ("ask", "<f8"),
        ("last", "<f8"),
        ("volume", "<u8"),
        ("time_msc", "<i8"),
        ("flags", "<u4"),
        ("volume_real", "<f8"),
    ]
)


def latest_tick(client: redis.Redis, prefix: str, symbol: str) -> Tick | None:
    """The symbol's current quote: its newest valid tick (None before the first tick)."""
    return newest_tick(client.xrevrange(Keys(prefix).ticks(symbol), count=LOOK_BACK))


def queue_latest(
    pipe: redis.client.Pipeline,
    prefix: str,
    symbols: Iterable[str],
    streams: Mapping[str, str] | None = None,
) -> None:
    """Queue one XREVRANGE COUNT LOOK_BACK per symbol, on the stream `streams` names for it
    (a broker's EURUSD.m reads ticks:EURUSD); read the replies with `newest_tick`."""
    for symbol in symbols:
        stream = streams.get(symbol, symbol) if streams else symbol
        pipe.xrevrange(Keys(prefix).ticks(stream), count=LOOK_BACK)


def tick_array(ticks: Iterable[Tick]) -> npt.NDArray[np.void]:
    """Ticks as the structured numpy array `copy_ticks_from` returns."""
    return np.array([tuple(t) for t in ticks], dtype=TICK_DTYPE)
