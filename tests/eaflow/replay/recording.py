"""A recorded session for the replay tests: signals through the real router and simulated
executors on the test Redis, with their results in `rtrs`."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import orjson
import redis
import redis.asyncio as aioredis

from eaflow.install.pipeline import build_pipeline
from eaflow.install.workers import install
from eaflow.settings import Settings
from model import Result
from tests.e2e.conftest import PREFIX, seed, write_market

SIGNALS: list[dict[str, Any]] = [
    {
        "signal_id": "s1",
        "symbol": "EURUSD",
        "order_type": "buy",
        "volume": "0.1",
        "instances": ["demo-1"],
    },
    {
        "signal_id": "s2",
        "symbol": "EURUSD",
        "order_type": "sell",
        "volume": "0.2",
        "instances": ["demo-2"],
    },
    {
        "signal_id": "s3",
        "symbol": "EURUSD",
        "order_type": "buy",
        "volume": "0.123",
        "instances": ["demo-1"],
    },  # off the volume step: rejected
    {"signal_id": "s4", "symbol": "NZDUSD", "order_type": "buy", "volume": "0.1"},  # broadcast
    {
        "signal_id": "s5",
        "symbol": "NOPE",
        "order_type": "buy",
        "volume": "0.1",
        "instances": ["demo-2"],
    },  # unknown symbol: rejected
    {"signal_id": "s6", "action": "close_all", "symbol": "EURUSD", "instances": ["demo-1"]},
]
RESULTS = 7  # s4 has one result per instance


async def record(redis_url: str, data_dir: Path) -> list[Result]:
    """Seed demo-1 and demo-2, run router and executors, send SIGNALS one by one (so their
    order in the stream is their order of execution) and return the recorded results."""
    await asyncio.to_thread(seed, redis_url, 2)
    client = aioredis.Redis.from_url(redis_url)
    sync = redis.Redis.from_url(redis_url)
    write_market(sync)
    sync.close()
    pipeline = build_pipeline(Settings(prefix=PREFIX, data_dir=data_dir), redis_url)
    await install(pipeline, ["rtss", "orders"])
    await pipeline.app.start()
    try:
        found: list[Result] = []
        for signal in SIGNALS:
            before = len(found)
            await client.xadd(f"{PREFIX}rtss", {"d": orjson.dumps(signal)})
            deadline = time.monotonic() + 30
            expected = 2 if signal["signal_id"] == "s4" else 1
            while len(found) < before + expected:
                assert time.monotonic() < deadline, f"no result for {signal['signal_id']}"
                await asyncio.sleep(0.02)
                entries: Any = await client.xrange(f"{PREFIX}rtrs")
                found = [Result.model_validate_json(f[b"d"]) for _, f in entries]
        return found
    finally:
        await pipeline.app.stop()
        await pipeline.close()
        await client.aclose()
