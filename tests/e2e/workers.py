"""Run eaflow commands as real processes, the way an operator would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def eaflow(
    *args: str, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run one eaflow command to completion."""
    return subprocess.run(
        [sys.executable, "-m", "eaflow", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        input=input,
        timeout=timeout,
        check=False,
    )


class Worker:
    """`eaflow worker TOPIC...` as a child process, with its log in a file."""

    def __init__(
        self,
        topics: Sequence[str],
        redis_url: str,
        log: Path,
        extra: Sequence[str] = (),
        env: dict[str, str] | None = None,
        program: Sequence[str] = ("-m", "eaflow"),
    ) -> None:
        """`program`: what Python runs, `-m eaflow` or a test's own entry point."""
        self.args = [
            sys.executable,
            *program,
            "worker",
            *topics,
            "--redis",
            redis_url,
            "--log-format",
            "json",
            *extra,
        ]
        self.log = log
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(self.args, stdout=handle, stderr=handle, env=self.env)
        handle.close()
        return self

    def kill(self) -> None:
        """SIGKILL: no chance to finish the batch in hand or ack."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM and wait: a graceful stop; returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None
