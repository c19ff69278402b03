"""The processes of a chaos run: Redis (AOF, fsync always) and named eaflow workers that the
run kills and restarts, watching for any that die on their own."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import orjson
import redis

from streams.clients import sync_client
from tests.e2e.workers import Worker
from tests.redis_server import RedisServer
from tests.sentinel import Replicated

AOF = ("--appendonly", "yes", "--appendfsync", "always")
"""Every acknowledged write is on disk before the reply: a SIGKILLed Redis loses nothing."""


@dataclass
class Promoting:
    """The Redis of a failover run, seen as a server: its URL names the Sentinels, and its
    `kill` is a failover (the primary SIGKILLed, the replica promoted, the old primary
    started again as its replica), after which `start` has nothing left to do."""

    replicated: Replicated

    @property
    def url(self) -> str:
        return self.replicated.url

    def kill(self) -> None:
        self.replicated.fail_over()

    def start(self) -> None:
        """The old primary is back already, as the new one's replica."""


@dataclass(frozen=True)
class Death:
    """A worker that exited without our hand: its exit code and the end of its log."""

    name: str
    returncode: int | None
    log_tail: str


@dataclass
class Member:
    """One named worker: whether we killed it, and since when it works (its log says
    `app.started` after its latest start)."""

    name: str
    role: str
    worker: Worker
    killed_at: float | None = None  # None: should be running
    log_offset: int = 0  # size of its log when it was last started
    ready_at: float | None = None

    def started(self) -> None:
        self.killed_at = None
        self.ready_at = None
        self.log_offset = self.worker.log.stat().st_size if self.worker.log.exists() else 0
        self.worker.start()

    def check_ready(self) -> None:
        if self.ready_at is None and self.worker.log.exists():
            with self.worker.log.open("rb") as log:
                log.seek(self.log_offset)
                if b'"app.started"' in log.read():
                    self.ready_at = time.monotonic()


class Cluster:
    """Starts workers by name, kills and restarts them, and notices unexpected exits."""

    def __init__(
        self, workdir: Path, redis_server: RedisServer | Promoting, env: dict[str, str]
    ) -> None:
        self.workdir = workdir
        self.redis_server = redis_server
        self.env = env
        self.members: dict[str, Member] = {}
        self.deaths: list[Death] = []
        self.kills: Counter[str] = Counter()  # by role
        self.redis_restarts = 0

    @property
    def url(self) -> str:
        return self.redis_server.url

    def add(
        self, name: str, role: str, topics: tuple[str, ...], extra: tuple[str, ...] = ()
    ) -> None:
        log = self.workdir / f"{name}.log"
        member = Member(name, role, Worker(topics, self.url, log, extra, self.env))
        member.started()
        self.members[name] = member

    def kill(self, name: str) -> None:
        member = self.members[name]
        self.watch()  # an exit before our kill is a death, not ours
        if not member.worker.alive:
            return
        member.worker.kill()
        member.killed_at = time.monotonic()
        self.kills[member.role] += 1

    def restart(self, name: str) -> None:
        member = self.members[name]
        if not member.worker.alive:
            member.started()

    def killable(self, rest: float) -> list[str]:
        """Workers that have been working for at least `rest` seconds: killed at random
        moments of their work, not over and over while they start (slow on a busy machine)."""
        now = time.monotonic()
        found = []
        for member in self.members.values():
            member.check_ready()
            ready = member.ready_at is not None and now - member.ready_at >= rest
            if member.killed_at is None and ready and member.worker.alive:
                found.append(member.name)
        return found

    def down(self) -> list[str]:
        return [m.name for m in self.members.values() if m.killed_at is not None]

    def watch(self) -> None:
        """Record workers that exited although we did not kill them, and start them again so
        the run goes on (the test fails on them at the end)."""
        for member in self.members.values():
            if member.killed_at is None and not member.worker.alive:
                process = member.worker.process
                code = process.returncode if process is not None else None
                self.deaths.append(Death(member.name, code, tail(member.worker.log)))
                member.started()

    def restart_redis(self, down: float) -> None:
        """SIGKILL Redis, wait, start it again on the same port from its AOF (a failover
        run: promote the replica)."""
        self.redis_server.kill()
        time.sleep(down)
        self.redis_server.start()
        self.redis_restarts += 1

    def stop_all(self) -> dict[str, int]:
        """SIGTERM every worker: a graceful stop must exit 0."""
        self.watch()
        return {name: m.worker.stop() for name, m in self.members.items()}

    def client(self) -> redis.Redis:
        return sync_client(self.url)


def tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def foreign_lines(path: Path) -> list[str]:
    """Log lines that are not JSON log events: tracebacks printed by a crashing process."""
    if not path.exists():
        return []
    return [
        line
        for line in path.read_text(errors="replace").splitlines()
        if line.strip() and not line.startswith("{")
    ]


def log_events(paths: list[Path], names: tuple[str, ...]) -> dict[str, int]:
    """How often each event of `names` was logged by the workers: what recovery took."""
    counts = dict.fromkeys(names, 0)
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                event = orjson.loads(line).get("event")
                if event in counts:
                    counts[event] += 1
    return counts
