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
    """A long-running coroutine started with the app and cancelled when it stops.

    Supervised: if `fn` raises, the failure is logged with its traceback (`task.failed`,
    error level, with the restart count and the wait) and `fn` is started again after
    `restart_initial` seconds, doubling on each failure in a row up to `restart_max`; a run
    that lasted longer than `restart_max` counts as healthy and resets the wait. A task is
    never left dead while its app runs: one that returns normally is done (a replay that
    does not loop), one that keeps failing is retried and logged at least every
    `restart_max` seconds (docs/operations.md).
    """

    def __init__(
        self,
        fn: TaskFunction,
        name: str | None = None,
        *,
        restart_initial: float = 1.0,
        restart_max: float = 30.0,
    ) -> None:
        if not 0 < restart_initial <= restart_max:
            raise ValueError(
                f"restart_initial: must be positive and at most restart_max, got "
                f"{restart_initial} and {restart_max}"
            )
        self.fn = fn
        self._name = name or fn.__qualname__
        self.restart_initial = restart_initial
        self.restart_max = restart_max
        self.restarts = 0  # failures so far, each followed by a restart
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
        loop = asyncio.get_running_loop()
        me = asyncio.current_task()
        in_a_row = 0
        while True:
            started = loop.time()
            try:
                await self.fn()
                return
            except Exception as exc:
                if me is not None and me.cancelling():
                    raise asyncio.CancelledError from exc  # stopping: nothing to restart
                in_a_row = 1 if loop.time() - started > self.restart_max else in_a_row + 1
                wait = min(self.restart_initial * 2 ** (in_a_row - 1), self.restart_max)
                self.restarts += 1
                log.exception(
                    "task.failed",
                    task=self.name,
                    error=f"{type(exc).__name__}: {exc}",
                    restarts=self.restarts,
                    restart_in=wait,
                )
            await asyncio.sleep(wait)
            log.warning("task.restarted", task=self.name, restarts=self.restarts)


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
