"""Instances that run one process each (MT5: one terminal per process), watched from here.

The child is `eaflow worker orders --instance ID` and reports its own status; this side
restarts it 3 s after it dies and says so in `ris`, and keeps trying when a start fails.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Sequence

import structlog

from model import InstanceReport, InstanceSpec, InstanceStatus, ReportKind
from processors.manager.config import ManagerConfig

log = structlog.get_logger(__name__)

STOP_WAIT = 10.0  # seconds a child gets to finish its batch after SIGTERM


def worker_command(instance: str, prefix: str, extra: Sequence[str] = ()) -> list[str]:
    """The child's command line: this Python, the orders worker, this one instance.

    The Redis URL (it may hold a password) goes through the environment, not `ps`.
    """
    return [
        sys.executable,
        "-m",
        "eaflow",
        "worker",
        "orders",
        "--instance",
        instance,
        "--prefix",
        prefix,
        "--spawn",
        "",
        *extra,
    ]


class Child:
    """One child process and what this side knows of it."""

    def __init__(
        self, spec: InstanceSpec, command: list[str], config: ManagerConfig, redis_url: str
    ) -> None:
        self.spec = spec
        self.command = command
        self.env = {**os.environ, "EAFLOW_REDIS_URL": redis_url}
        self.config = config
        self.process: asyncio.subprocess.Process | None = None
        self.status = InstanceStatus.STOPPED
        self.restarts = 0
        self.error: str | None = None
        self._next_attempt = 0.0

    @property
    def instance(self) -> str:
        return self.spec.instance_id

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

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
        now = time.monotonic()
        if self.process is None:
            return await self._start() if now >= self._next_attempt else []
        code = self.process.returncode
        if code is None:
            return []
        self.process = None
        self.restarts += 1
        self.error = f"process exited with {_exit(code)}"
        self.status = InstanceStatus.RESTARTING
        log.error(
            "instance_crashed",
            instance=self.instance,
            error=self.error,
            restart_in=self.config.restart_delay,
        )
        reported = [self.report(ReportKind.CRASHED)]
        self._next_attempt = time.monotonic() + self.config.restart_delay  # after the report
        return reported

    async def _start(self) -> list[InstanceReport]:
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.command, stdin=asyncio.subprocess.DEVNULL, env=self.env
            )
        except OSError as error:
            self.error = f"cannot start: {error}"
            self.status = InstanceStatus.RESTARTING
            self._next_attempt = time.monotonic() + self.config.restart_delay
            log.error("instance_restart_failed", instance=self.instance, error=self.error)
            return [self.report(ReportKind.RESTART_FAILED)]
        self.status = InstanceStatus.STARTING
        log.info("instance_process_started", instance=self.instance, pid=self.process.pid)
        return [self.report(ReportKind.STATUS)]

    async def close(self) -> None:
        """SIGTERM, so it finishes its batch in hand; SIGKILL after STOP_WAIT."""
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), STOP_WAIT)
        except TimeoutError:
            process.kill()
            await process.wait()


def _exit(code: int) -> str:
    if code < 0:
        return f"signal {signal.Signals(-code).name}"
    return f"code {code}"
