"""A replicated Redis on loopback for the failover tests: a primary, a replica and three
Sentinels (`redis-server --sentinel`), with helpers to kill the primary and wait for the
promotion Sentinels make."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.redis_server import RedisServer, free_port
from tests.tools import need_redis

SERVICE = "mymaster"
DOWN_AFTER_MS = 1000
"""How long a primary may not answer before Sentinels call it down (fast, for tests)."""
FAILOVER_TIMEOUT_MS = 3000


@dataclass
class Sentinel:
    """One `redis-server CONFIG --sentinel` process watching `SERVICE`."""

    workdir: Path
    primary_port: int
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Sentinel:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "sentinel.conf"  # Sentinel rewrites it: its own file
        config.write_text(
            f"port {self.port}\nbind 127.0.0.1\nprotected-mode no\ndir {self.workdir}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary_port} 2\n"
            f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}\n"
        )
        with (self.workdir / "sentinel.log").open("ab") as log:
            self.process = subprocess.Popen(
                [need_redis(), str(config), "--sentinel"], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 10
        with redis.Redis(host="127.0.0.1", port=self.port) as client:
            while True:
                try:
                    if client.ping():
                        return self
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)

    def primary(self) -> int | None:
        """The port of the primary this Sentinel names now."""
        with redis.Redis(host="127.0.0.1", port=self.port) as client:
            found = client.sentinel_get_master_addr_by_name(SERVICE)
        return None if not found else int(found[1])

    def replica_ok(self, port: int) -> bool:
        """Whether this Sentinel knows the server on `port` as a replica it may promote."""
        with redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True) as client:
            rows = client.sentinel_slaves(SERVICE)
        for row in rows:
            if row["port"] == port:
                return bool(row["flags"] == "slave" and row["master-link-status"] == "ok")
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@dataclass
class Replicated:
    """Two servers, one the primary, and three Sentinels watching them."""

    workdir: Path
    servers: list[RedisServer] = field(default_factory=list)
    sentinels: list[Sentinel] = field(default_factory=list)

    def start(self) -> Replicated:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> Replicated:
        primary = RedisServer(self.workdir / "a").start()
        self.servers.append(primary)
        replica = RedisServer(
            self.workdir / "b", extra_args=("--replicaof", "127.0.0.1", str(primary.port))
        )
        self.servers.append(replica.start())
        self.wait_replicated(primary)
        for n in range(3):
            self.sentinels.append(Sentinel(self.workdir / f"s{n}", primary.port))
            self.sentinels[-1].start()
        deadline = time.monotonic() + 15  # the Sentinels found the replica and each other
        while not self._watching():
            if time.monotonic() > deadline:
                raise RuntimeError("the Sentinels did not discover the replica and each other")
            time.sleep(0.1)
        return self

    def _watching(self) -> bool:
        for sentinel in self.sentinels:
            with redis.Redis(host="127.0.0.1", port=sentinel.port, decode_responses=True) as c:
                info = c.sentinel_master(SERVICE)
                if info["num-slaves"] < 1 or info["num-other-sentinels"] < 2:
                    return False
        return True

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{SERVICE}/0"

    @property
    def primary(self) -> RedisServer:
        port = self.sentinels[0].primary()
        return next(s for s in self.servers if s.port == port)

    def wait_replicated(self, primary: RedisServer, timeout: float = 10) -> None:
        """Until the primary's replica holds everything written so far."""
        with redis.Redis(host="127.0.0.1", port=primary.port) as client:
            deadline = time.monotonic() + timeout
            while int(client.execute_command("WAIT", 1, 100)) < 1:
                if time.monotonic() > deadline:
                    raise RuntimeError("the replica did not catch up")

    def fail_over(self, timeout: float = 30, by_hand: bool = False) -> RedisServer:
        """SIGKILL the primary, wait until every Sentinel names the replica, then start the
        old primary again as the new one's replica; `by_hand`: `SENTINEL FAILOVER` instead
        (the old primary lives on and is turned into the replica). Returns the new primary."""
        old = self.primary
        new = next(s for s in self.servers if s is not old)
        deadline = time.monotonic() + timeout  # every Sentinel sees `new` replicating
        while not all(s.replica_ok(new.port) for s in self.sentinels):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Sentinels do not see {new.port} as a live replica")
            time.sleep(0.1)
        self.wait_replicated(old)
        if by_hand:
            with redis.Redis(host="127.0.0.1", port=self.sentinels[0].port) as client:
                client.sentinel_failover(SERVICE)
        else:
            old.kill()
        deadline = time.monotonic() + timeout
        while any(s.primary() != new.port for s in self.sentinels):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no promotion of {new.port} within {timeout:.0f} s")
            time.sleep(0.1)
        if not by_hand:
            old.extra_args = ("--replicaof", "127.0.0.1", str(new.port))
            old.start()
        deadline = time.monotonic() + timeout
        while True:  # the old primary replicates the new one
            try:
                self.wait_replicated(new, 1)
                return new
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise

    def stop(self) -> None:
        for sentinel in self.sentinels:
            sentinel.stop()
        for server in self.servers:
            server.stop()
