"""Worker processes watched from here: instances that run one process each (MT5: one
terminal per process), and the shares of `eaflow worker orders --processes N`.

A child is `eaflow worker orders --instance ID...` and reports its own instances' status;
this side restarts it 3 s after it dies (an instance's child says so in `ris`), and keeps
trying when a start fails. A child is stopped so that it finishes its batch in hand: SIGTERM on
POSIX; on Windows (where the MT5 instances' children run) SIGTERM would kill it outright, so
each child gets a process group of its own and is sent CTRL_BREAK_EVENT, which its runner
takes as SIGBREAK (`eaflow/runner.py`).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

import structlog

from model import InstanceReport, InstanceSpec, InstanceStatus, ReportKind
from processors.manager.config import ManagerConfig

log = structlog.get_logger(__name__)

STOP_WAIT = 10.0  # seconds a child gets to finish its batch after its stop signal
WINDOWS = "win32"
CREATE_NEW_PROCESS_GROUP = 0x00000200  # subprocess.CREATE_NEW_PROCESS_GROUP (Windows only)
CTRL_BREAK_EVENT = 1  # signal.CTRL_BREAK_EVENT (Windows only)


def spawn_options(platform: str = sys.platform) -> dict[str, Any]:
    """Keyword arguments that start a child so `stop_signal` can reach it alone."""
    return {"creationflags": CREATE_NEW_PROCESS_GROUP} if platform == WINDOWS else {}


def stop_signal(platform: str = sys.platform) -> int:
    """What asks a child to stop gracefully: CTRL_BREAK_EVENT on Windows, SIGTERM elsewhere."""
    return CTRL_BREAK_EVENT if platform == WINDOWS else int(signal.SIGTERM)


def worker_command(instances: Sequence[str], prefix: str, extra: Sequence[str] = ()) -> list[str]:
    """The child's command line: this Python, the orders worker, these instances.

    The Redis URL (it may hold a password) goes through the environment, not `ps`.
    """
    hosted = [part for instance in instances for part in ("--instance", instance)]
    return [
        sys.executable,
        "-m",
        "eaflow",
        "worker",
        "orders",
        *hosted,
        "--prefix",
        prefix,
        "--spawn",
        "",
        "--processes",
        "1",
        *extra,
    ]


class WorkerProcess:
    """A worker process kept running from here: started, restarted 3 s after it dies (and
    again while a start fails), stopped by its stop signal so it finishes its batch in hand."""

    def __init__(
        self, name: str, command: list[str], config: ManagerConfig, redis_url: str
    ) -> None:
        self.name = name
        self.command = command
        self.env = {**os.environ, "EAFLOW_REDIS_URL": redis_url}
        self.config = config
        self.process: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self.error: str | None = None
        self._next_attempt = 0.0

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    async def poll(self) -> str | None:
        """Start it when due; returns what happened: "started", "crashed", "start failed",
        or None."""
        if self.process is None:
            if time.monotonic() < self._next_attempt:
                return None
            try:
                self.process = await asyncio.create_subprocess_exec(
                    *self.command, stdin=asyncio.subprocess.DEVNULL, env=self.env, **spawn_options()
                )
            except OSError as error:
                self.error = f"cannot start: {error}"
                self._next_attempt = time.monotonic() + self.config.restart_delay
                log.error("worker_start_failed", worker=self.name, error=self.error)
                return "start failed"
            log.info("worker_process_started", worker=self.name, pid=self.process.pid)
            return "started"
        code = self.process.returncode
        if code is None:
            return None
        self.process = None
        self.restarts += 1
        self.error = f"process exited with {_exit(code)}"
        log.error(
            "worker_crashed",
            worker=self.name,
            error=self.error,
            restart_in=self.config.restart_delay,
        )
        self._next_attempt = time.monotonic() + self.config.restart_delay
        return "crashed"

    async def close(self) -> None:
        """Its stop signal, so it finishes its batch in hand; killed after STOP_WAIT."""
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(stop_signal())
        try:
            await asyncio.wait_for(process.wait(), STOP_WAIT)
        except TimeoutError:
            process.kill()
            await process.wait()


class Child(WorkerProcess):
    """An instance that runs in a process of its own, and what this side reports of it."""

    def __init__(
        self, spec: InstanceSpec, command: list[str], config: ManagerConfig, redis_url: str
    ) -> None:
        super().__init__(spec.instance_id, command, config, redis_url)
        self.spec = spec
        self.status = InstanceStatus.STOPPED

    @property
    def instance(self) -> str:
        return self.spec.instance_id

    def report(self, kind: ReportKind) -> InstanceReport:
        return InstanceReport(
            instance=self.instance,
            kind=kind,
            status=self.status,
            restarts=self.restarts,
            config_version=self.spec.config_version,
            error=self.error,
            pid=self.pid or os.getpid(),
        )

    async def step(self) -> list[InstanceReport]:
        """Start it when due; notice when it died and schedule its restart."""
        happened = await self.poll()
        if happened == "started":
            self.status = InstanceStatus.STARTING
            return [self.report(ReportKind.STATUS)]
        self.status = InstanceStatus.RESTARTING if happened else self.status
        if happened == "crashed":
            return [self.report(ReportKind.CRASHED)]
        if happened == "start failed":
            return [self.report(ReportKind.RESTART_FAILED)]
        return []


class Shards:
    """The other processes of `eaflow worker orders --processes N`, each hosting its share of
    the instances; polled every `interval` seconds until cancelled, then stopped."""

    def __init__(self, processes: Sequence[WorkerProcess], interval: float) -> None:
        self.processes = list(processes)
        self.interval = interval

    async def run(self) -> None:
        try:
            while True:
                for process in self.processes:
                    await process.poll()
                await asyncio.sleep(self.interval)
        finally:
            await asyncio.gather(*(p.close() for p in self.processes))


def _exit(code: int) -> str:
    if code < 0:
        return f"signal {signal.Signals(-code).name}"
    return f"code {code}"
