"""Timers tick on a fixed grid and survive their own exceptions; tasks run until stopped and
are restarted when they fail."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from streams import App
from streams.timer import Task, Timer, next_beat
from tests.streams.conftest import settings, until


def test_next_beat_is_on_the_grid() -> None:
    assert next_beat(0, start=10.0, interval=0.5, now=10.0) == 1
    assert next_beat(1, start=10.0, interval=0.5, now=10.5) == 2
    assert next_beat(1, start=10.0, interval=0.5, now=10.4999) == 2, "woke a bit early"


def test_next_beat_skips_missed_beats() -> None:
    assert next_beat(1, start=10.0, interval=0.5, now=11.75) == 4


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval"):
        Timer(tick_noop, 0)


async def tick_noop() -> None:
    return None


async def test_timer_ticks_and_survives_exceptions(app: App) -> None:
    ticks = 0

    @app.timer(0.01)
    async def flaky() -> None:
        nonlocal ticks
        ticks += 1
        if ticks == 2:
            raise RuntimeError("one bad beat")

    await app.start()

    async def ticked() -> bool:
        return ticks >= 4

    await until(ticked, "four ticks")
    await app.stop()
    assert app.timers[0].name.endswith("flaky")


async def test_task_runs_until_the_app_stops(app: App) -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    assert app.task(forever) is forever
    await app.start()
    await asyncio.wait_for(started.wait(), timeout=10)
    await app.stop()
    assert cancelled.is_set()


async def test_a_task_whose_redis_command_fails_is_restarted_until_it_runs(
    redis_url: str, r: aioredis.Redis
) -> None:
    """Issue 18: the tick replay died for good on one Redis error. A failing task is logged
    and started again with backoff, and runs once the cause is gone."""
    app = App(settings(redis_url, task_restart_initial=0.05, task_restart_max=0.2))
    await r.set("t:feed", "a string, not a stream")  # XADD to it: WRONGTYPE
    written: list[bytes | str] = []

    async def feed() -> None:
        written.append(await app.redis.xadd("t:feed", {"d": b"tick"}))
        await asyncio.Event().wait()

    app.task(feed, name="feed")
    await app.start()
    try:

        async def failed_twice() -> bool:
            return app.tasks[0].restarts >= 2

        await until(failed_twice, "two failed runs")
        assert not written
        await r.delete("t:feed")  # the cause is gone: the next restart writes

        async def wrote() -> bool:
            return await r.xlen("t:feed") == 1

        await until(wrote, "the restarted task's write")
    finally:
        await app.stop()


async def test_a_task_that_returns_is_done_and_a_stopped_one_is_not_restarted(
    app: App,
) -> None:
    runs = 0
    started = asyncio.Event()

    async def once() -> None:
        nonlocal runs
        runs += 1

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    app.task(once)
    app.task(forever)
    await app.start()
    await asyncio.wait_for(started.wait(), timeout=10)
    await app.stop()
    assert runs == 1 and [t.restarts for t in app.tasks] == [0, 0]


def test_restart_waits_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="restart_initial"):
        Task(tick_noop, restart_initial=5.0, restart_max=1.0)
