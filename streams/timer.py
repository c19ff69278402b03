"""Timers and background tasks: coroutines the app runs beside its agents."""

from __future__ import annotations

import asyncio
import math

import structlog

from streams.types import TaskFunction

log = structlog.get_logger(__name__)


def next_beat(last: int, start: float, interval: float, now: float) -> int:
    """Index k of the next beat `start + k*interval` after beat `last` and after `now`.

    Beats sit on a fixed grid, so they do not drift; beats missed by a slow call are skipped.
    """
    return max(last + 1, math.floor((now - start) / interval) + 1)


class Timer:
    """Calls `fn` every `interval` seconds on a fixed grid; an exception is logged, not fatal.

    Example: ``@app.timer(0.5)`` above ``async def sync_state() -> None``.
    """

    def __init__(self, fn: TaskFunction, interval: float, name: str | None = None) -> None:
        if not interval > 0:
            raise ValueError(f"interval: must be positive, got {interval}")
        self.fn = fn
        self.interval = interval
        self._name = name or fn.__qualname__
        self._task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self._name

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"timer:{self.name}")

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        me = asyncio.current_task()
        start = loop.time()
        beat = 0
        while True:
            beat = next_beat(beat, start, self.interval, loop.time())
            await asyncio.sleep(start + beat * self.interval - loop.time())
            try:
                await self.fn()
            except Exception as exc:
                log.exception("timer.failed", timer=self.name, error=str(exc))
            if me is not None and me.cancelling():
                return  # a library inside fn swallowed our cancellation: stop anyway


class Task:
    """A long-running coroutine started with the app and cancelled when it stops."""

    def __init__(self, fn: TaskFunction, name: str | None = None) -> None:
        self.fn = fn
        self._name = name or fn.__qualname__
        self._task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self._name

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"task:{self.name}")

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None

    async def _run(self) -> None:
        try:
            await self.fn()
        except Exception as exc:
            log.exception("task.failed", task=self.name, error=str(exc))


async def cancel(task: asyncio.Task[None] | None) -> None:
    """Cancel `task` and wait until it has finished."""
    if task is None or task.done():
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
