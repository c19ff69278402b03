"""The trading-hours plugin: its hours, eaflow finding it, and its gate running in a real
pipeline (router and simulated executor) on eaflow's embedded Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis
from eaflow_trading_hours import plugin
from eaflow_trading_hours.hours import TradingHours

from eaflow.demo import seed_demo
from eaflow.embedded import EmbeddedRedis
from eaflow.install.pipeline import build_pipeline
from eaflow.install.workers import install
from eaflow.plugins import discover
from eaflow.settings import Settings
from model import Result
from model.tick import Tick, encode_tick

FOREX = TradingHours.parse("sun 22:00-24:00, mon-thu 00:00-24:00, fri 00:00-22:00")


def at(moment: str) -> float:
    return datetime.fromisoformat(moment).timestamp()


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        ("2024-05-05T21:59:59+00:00", False),  # Sunday, before the week opens
        ("2024-05-05T22:00:00+00:00", True),
        ("2024-05-08T03:00:00+00:00", True),  # Wednesday night
        ("2024-05-10T21:59:59+00:00", True),  # Friday, last second
        ("2024-05-10T22:00:00+00:00", False),
        ("2024-05-11T12:00:00+00:00", False),  # Saturday
    ],
)
def test_the_forex_week(moment: str, open_: bool) -> None:
    assert FOREX.is_open(at(moment)) is open_


@pytest.mark.parametrize(
    ("spec", "rule"),
    [
        ("weekdays 07:00-21:00", "must look like 'mon-fri 07:00-21:00'"),
        ("mon-fri 21:00-07:00", "must end after it starts"),
        ("fri-mon 07:00-21:00", "must run forward"),
        ("mon-fri 07:00-25:00", "is not a time of day"),
        ("mon-fry 07:00-21:00", "is not one of mon, tue"),
    ],
)
def test_bad_hours_are_refused_naming_the_rule(spec: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rf"trading_hours: .*{rule}"):
        TradingHours.parse(spec)


def test_eaflow_discovers_the_installed_plugin() -> None:
    found = {f.name: f for f in discover()}
    assert found["trading-hours"].plugin is plugin
    assert found["trading-hours"].kind == "processor"
    assert plugin.reads == ("rtss:in",)
    assert plugin.writes == ("rtss", "rtrs")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    embedded = EmbeddedRedis(tmp_path / "redis")
    yield embedded.start()
    embedded.stop()


async def test_the_gate_rejects_late_signals_and_passes_the_others(
    redis_url: str, tmp_path: Path
) -> None:
    client = redis.Redis.from_url(redis_url)
    now = time.time()
    tick = Tick(
        time=int(now),
        bid=1.38742,
        ask=1.38755,
        last=0.0,
        volume=0,
        time_msc=int(now * 1000),
        flags=6,
        volume_real=0.0,
    )
    client.xadd("ea:ticks:EURUSD", {"d": encode_tick(tick)})
    pipeline = build_pipeline(Settings(prefix="ea:", data_dir=tmp_path), redis_url)
    await seed_demo(pipeline.registry, redis_url, "ea:", 1)
    await install(pipeline, ["trading-hours", "rtss", "orders"])
    await pipeline.app.start()
    try:
        for signal_id, created in (
            ("tuesday", "2024-05-07T10:00:00+00:00"),
            ("saturday", "2024-05-11T10:00:00+00:00"),
        ):
            body = {
                "signal_id": signal_id,
                "symbol": "EURUSD",
                "order_type": "buy",
                "volume": "0.1",
                "instances": ["demo-1"],
                "created_at": at(created),
            }
            client.xadd("ea:rtss:in", {"d": orjson.dumps(body)})
        results: dict[str, Result] = {}
        deadline = time.monotonic() + 30
        while len(results) < 2 and time.monotonic() < deadline:
            entries: Any = client.xrange("ea:rtrs")
            for _, fields in entries:
                result = Result.model_validate_json(fields[b"d"])
                results[result.signal_id] = result
            await asyncio.sleep(0.05)
    finally:
        await pipeline.app.stop()
        await pipeline.close()
        client.close()
    assert results["tuesday"].status == "filled"
    assert results["tuesday"].instance == "demo-1"
    assert results["saturday"].status == "rejected"
    assert results["saturday"].field == "created_at"
    assert results["saturday"].error is not None
    assert "outside trading hours" in results["saturday"].error
