"""Reading ranges page by page within a limit, and what `--into` may name."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from eaflow.replay.dryrun import kind_of
from eaflow.replay.source import debug_stream, read_range


async def test_ranges_are_read_across_pages_and_limited(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    pipe = client.pipeline(transaction=False)
    for n in range(2500):
        pipe.xadd("t:s", {"d": str(n)}, id=f"{n + 1}-0")
    await pipe.execute()
    pages: list[int] = []
    entries = await read_range(client, "t:s", "1000", "2500", 5000, pages.append)
    assert [e[0] for e in entries] == [f"{n}-0" for n in range(1000, 2501)]
    assert pages == [1000, 501]
    with pytest.raises(ValueError, match="--limit: the range holds more than 100 entries"):
        await read_range(client, "t:s", "-", "+", 100)
    await client.aclose()


def test_only_debug_streams_receive_copies() -> None:
    assert debug_stream("debug:rtss", "rtss") == "debug:rtss"
    with pytest.raises(
        ValueError, match=r"--into: 'rtss' must name a debug stream \(debug:\.\.\.\)"
    ):
        debug_stream("rtss", "dlq:rtss")
    with pytest.raises(ValueError, match="is the stream being replayed"):
        debug_stream("debug:x", "debug:x")


def test_dry_runs_take_signals_and_orders() -> None:
    assert kind_of("rtss") == kind_of("dlq:rtss") == "signals"
    assert kind_of("orders:demo-1") == kind_of("dlq:orders:demo-1") == "orders"
    with pytest.raises(ValueError, match="STREAM: a dry run re-runs rtss or orders"):
        kind_of("ticks:EURUSD")
