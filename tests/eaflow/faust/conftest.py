"""Fixtures of the Faust transport's tests: a Redis ≥ 7 (dense stream ids), Faust workers as
real processes (`python -m faust -A tests.eaflow.faust.apps.NAME worker`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from tests.redis_server import free_port
from tests.tools import need_redis

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def redis7_url(redis_url: str) -> str:
    """The session's Redis, emptied; the test is skipped (failed in CI) below 7.0."""
    need_redis((7, 0), "the Faust transport's dense stream ids (XADD key 0-*)")
    return redis_url


class FaustWorker:
    """`python -m faust -A tests.eaflow.faust.apps.<app> worker` with its log in a file;
    `env` configures the app (tests/eaflow/faust/apps/common.py)."""

    def __init__(self, app: str, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.args = [
            sys.executable, "-m", "faust", "-A", f"tests.eaflow.faust.apps.{app}",
            "worker", "-l", "info", "--web-port", str(free_port()), "--web-host", "127.0.0.1",
        ]  # fmt: skip
        self.env = {**os.environ, **env}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> FaustWorker:
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                self.args, stdout=handle, stderr=subprocess.STDOUT, env=self.env, cwd=ROOT
            )
        return self

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, as Ctrl-C: Faust stops cleanly (commits, leaves the group)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"worker did not stop within {timeout}s:\n{self.tail()}") from None

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def tail(self, n: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-n:]

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., FaustWorker]]:
    """Start Faust workers; every one still running at the end is killed."""
    started: list[FaustWorker] = []

    def start(app: str, env: dict[str, str], name: str = "worker") -> FaustWorker:
        worker = FaustWorker(app, env, tmp_path / f"{name}-{len(started)}.log").start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.running():
            worker.kill()


def wait_for(
    check: Callable[[], bool], what: str, timeout: float, logs: Callable[[], str] = lambda: ""
) -> None:
    """Poll `check` until it holds (a bound against hanging, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout:.0f}s\n{logs()}")


def changelog(client: redis.Redis, topic: str, prefix: str = "faust:") -> dict[bytes, bytes]:
    """A table's durable state: the latest value of each key in its changelog's partitions."""
    state: dict[bytes, bytes] = {}
    raw: Any = client.hget(f"{prefix}topics", topic)
    if raw is None:
        return state
    for partition in range(orjson.loads(raw)["partitions"]):
        entries: Any = client.xrange(f"{prefix}t:{topic}:{partition}")
        for _, fields in entries:
            if b"k" in fields:
                state[fields[b"k"]] = fields.get(b"v", b"")
    return state
