"""A replicated Redis on loopback for the failover tests: a primary, a replica and three
Sentinels (`redis-server --sentinel`), with helpers to kill the primary and wait for the
promotion Sentinels make."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import redis

from eaflow.acl import Role, username
from tests.acl_redis import AclRedis
from tests.redis_server import RedisServer, free_port
from tests.tools import need_redis

SERVICE = "mymaster"
DOWN_AFTER_MS = 3000
"""How long a primary may not answer before Sentinels call it down: short for tests, but
not so short that a loaded machine's pause (a primary forking for a replica's full sync
while a chaos run's workers take both cores) promotes the other server on its own."""
FAILOVER_TIMEOUT_MS = 3000


@dataclass
class Sentinel:
    """One `redis-server CONFIG --sentinel` process watching `SERVICE`."""

    workdir: Path
    primary_port: int
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    password: str | None = None  # of the sentinel role, when the servers run the ACL file

    def start(self) -> Sentinel:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "sentinel.conf"  # Sentinel rewrites it: its own file
        config.write_text(
            f"port {self.port}\nbind 127.0.0.1\nprotected-mode no\ndir {self.workdir}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary_port} 2\n"
            f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}\n"
        )
        if self.password is not None:
            with config.open("a") as lines:
                lines.write(f"sentinel auth-user {SERVICE} {username(Role.SENTINEL)}\n")
                lines.write(f"sentinel auth-pass {SERVICE} {self.password}\n")
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
    """Two servers, one the primary, and three Sentinels watching them; with `passwords`
    the servers run `eaflow acl`'s users (the replica and Sentinels log in as theirs)."""

    workdir: Path
    passwords: dict[Role, str] | None = None
    servers: list[RedisServer] = field(default_factory=list)
    sentinels: list[Sentinel] = field(default_factory=list)

    def start(self) -> Replicated:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _server(self, name: str) -> RedisServer:
        if self.passwords is None:
            return RedisServer(self.workdir / name)
        return AclRedis(self.workdir / name, passwords=self.passwords)

    def client(self, server: RedisServer) -> redis.Redis:
        """An admin's client of one server."""
        if isinstance(server, AclRedis):
            return server.client(Role.ADMIN)
        return redis.Redis(host="127.0.0.1", port=server.port)

    def follow(self, server: RedisServer, primary: RedisServer) -> None:
        """Make `server` a replica of `primary`, logged in as the replica user."""
        with self.client(server) as client:
            if self.passwords is not None:
                client.config_set("masteruser", username(Role.REPLICA))
                client.config_set("masterauth", self.passwords[Role.REPLICA])
            client.replicaof("127.0.0.1", primary.port)

    def _start(self) -> Replicated:
        primary = self._server("a").start()
        self.servers.append(primary)
        replica = self._server("b")
        self.servers.append(replica.start())
        self.follow(replica, primary)
        self.wait_replicated(primary)
        password = None if self.passwords is None else self.passwords[Role.SENTINEL]
        for n in range(3):
            self.sentinels.append(Sentinel(self.workdir / f"s{n}", primary.port, password=password))
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
        return self.url_for(Role.ADMIN) if self.passwords else self._url("")

    def url_for(self, role: Role) -> str:
        """The Sentinel URL a worker of `role` is given."""
        assert self.passwords is not None
        return self._url(f"{username(role)}:{quote(self.passwords[role], safe='')}@")

    def _url(self, login: str) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{login}{hosts}/{SERVICE}/0"

    @property
    def primary(self) -> RedisServer:
        port = self.sentinels[0].primary()
        for server in self.servers:
            if server.port == port:
                return server
        raise RuntimeError(f"the Sentinels name no server of ours as the primary ({port})")

    def wait_replicated(self, primary: RedisServer, timeout: float = 10) -> None:
        """Until the primary's replica holds everything written so far: a write of this
        connection, then WAIT for it (the replication stream is one ordered log; a WAIT
        on a connection that wrote nothing is answered at once)."""
        with self.client(primary) as client:
            deadline = time.monotonic() + timeout
            client.incr("ea:synced")  # under the prefix: the admin user may write it
            while int(client.wait(1, 100)) < 1:
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
            old.start()
            self.follow(old, new)
        deadline = time.monotonic() + timeout
        while True:  # the primary the Sentinels name now has its replica in sync
            try:
                current = self.primary  # (they may have failed over again on their own)
                self.wait_replicated(current, 1)
                return current
            except (RuntimeError, redis.ResponseError, redis.ConnectionError) as error:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no primary with its replica in sync: {error}") from error
                time.sleep(0.1)

    def stop(self) -> None:
        for sentinel in self.sentinels:
            sentinel.stop()
        for server in self.servers:
            server.stop()
