"""Serve the gateway with uvicorn inside a running event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import structlog
import uvicorn
from fastapi import FastAPI

from eaflow.gateway.sources import Source

log = structlog.get_logger(__name__)


class _Server(uvicorn.Server):
    """Leaves SIGINT/SIGTERM to the process that hosts it (`eaflow run` stops gracefully)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class GatewayServer:
    """uvicorn as a task of the caller's loop: `await run()`; cancel it to stop."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
            proxy_headers=False,  # X-Forwarded-For is read by the gateway, from trusted proxies
            timeout_graceful_shutdown=2,
            server_header=False,
        )
        self.server = _Server(config)

    @property
    def started(self) -> bool:
        return self.server.started

    @property
    def port(self) -> int:
        """The bound port (the real one when asked for port 0)."""
        for server in getattr(self.server, "servers", []):
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return int(self.server.config.port)

    async def run(self) -> None:
        """Serve until cancelled, then close listeners and connections before returning."""
        serving = asyncio.ensure_future(self._serve())
        try:
            await asyncio.shield(serving)
        except asyncio.CancelledError:
            self.server.should_exit = True
            await serving
            raise

    async def _serve(self) -> None:
        config = self.server.config
        try:
            await self.server.serve()
        except SystemExit:  # uvicorn exits when it cannot bind
            raise OSError(f"port: cannot listen on {config.host}:{config.port}") from None


def usage(source: Source, url: str) -> list[str]:
    """How to use a newly created source: printed once, on first start (short, spaced
    lines, so a narrow terminal wraps them instead of cutting the secret)."""
    return [
        f"alert secret (source {source.name}, printed once): {source.secret}",
        f'  JSON alert: {{"secret": "{source.secret}", "action": "buy", "symbol": "EURUSD", '
        '"volume": 0.01}',
        f"  text alert: {source.name}, buy, EURUSD, vol_lots=0.01, secret={source.secret}",
        f"  webhook URL: {url}/webhook/tradingview (TLS on port 443: docs/alerts.md)",
    ]
