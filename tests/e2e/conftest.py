"""End-to-end fixtures: seeded simulated instances, a static market, worker processes, a
headless Chromium."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis
import redis.asyncio as aioredis

from brokers.mt5.records import TradePosition
from brokers.sim.terminal import SimTerminal
from eaflow.demo import FIRST_LOGIN, seed_demo
from model import Result
from model.tick import Tick, encode_tick
from processors.registry import InstanceRegistry
from tests.e2e.browser import CHROMIUM, DRIVER, FLAGS
from tests.e2e.workers import Worker

PREFIX = "ea:"
# Recorded quotes (Lean/OANDA 2014-05-06 and the 2014-05-11 XAUUSD open), re-timed to now.
QUOTES = {
    "EURUSD": (1.38742, 1.38755),
    "NZDUSD": (0.86834, 0.86858),
    "XAUUSD": (1289.056, 1290.606),
}


def write_market(client: redis.Redis, quotes: dict[str, tuple[float, float]] = QUOTES) -> None:
    now_ms = int(time.time() * 1000)
    for symbol, (bid, ask) in quotes.items():
        tick = Tick(
            time=now_ms // 1000,
            bid=bid,
            ask=ask,
            last=0.0,
            volume=0,
            time_msc=now_ms,
            flags=6,
            volume_real=0.0,
        )
        client.xadd(f"{PREFIX}ticks:{symbol}", {"d": encode_tick(tick)})


def seed(redis_url: str, count: int) -> list[str]:
    async def run() -> list[str]:
        client = aioredis.Redis.from_url(redis_url)
        try:
            return await seed_demo(InstanceRegistry(client, PREFIX), redis_url, PREFIX, count)
        finally:
            await client.aclose()

    return asyncio.run(run())


def entries(client: redis.Redis, key: str) -> list[tuple[bytes, dict[bytes, bytes]]]:
    """XRANGE of a whole stream, typed (redis-py's sync client answers a union)."""
    found: Any = client.xrange(key)
    return list(found)


def results(client: redis.Redis) -> list[Result]:
    return [Result.model_validate_json(f[b"d"]) for _, f in entries(client, f"{PREFIX}rtrs")]


def wait_for_results(client: redis.Redis, count: int, timeout: float = 60) -> list[Result]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = results(client)
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{len(results(client))} results after {timeout}s, expected {count}")


def positions(redis_url: str, instance_number: int) -> tuple[TradePosition, ...]:
    """demo-N's open positions, as its terminal sees them."""
    return terminal(redis_url, instance_number).positions_get() or ()


def terminal(redis_url: str, instance_number: int) -> SimTerminal:
    """The simulator's view of demo-N's account, as a terminal would see it."""
    sim = SimTerminal(redis.Redis.from_url(redis_url), prefix=PREFIX)
    assert sim.initialize(login=FIRST_LOGIN + instance_number - 1, server="eaflow-sim")
    return sim


def send_raw(client: redis.Redis, body: object) -> None:
    client.xadd(f"{PREFIX}rtss", {"d": orjson.dumps(body)})


@pytest.fixture
def workers(tmp_path: Path, redis_url: str) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(
        *topics: str,
        extra: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        name: str = "worker",
        program: tuple[str, ...] = ("-m", "eaflow"),
    ) -> Worker:
        log = tmp_path / f"{name}-{len(started)}.log"
        worker = Worker(topics, redis_url, log, extra, env, program).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.alive:
            worker.stop()


@pytest.fixture
def chromium() -> Iterator[Any]:
    """A headless Chromium driven by chromedriver, in a throwaway profile (skipped without
    selenium; mark the module `needs("chromium", "chromedriver")`)."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="eaflow-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
