"""Timers tick on a fixed grid and survive their own exceptions; tasks run until stopped."""

from __future__ import annotations

import asyncio

import pytest

from streams import App
from streams.timer import Task, Timer, next_beat
from tests.streams.conftest import until


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


async def test_a_failing_task_is_logged_not_fatal() -> None:
    async def broken() -> None:
        raise RuntimeError("bad task")

    task = Task(broken)
    await task.start()
    await task.stop()
    assert task.name.endswith("broken")
