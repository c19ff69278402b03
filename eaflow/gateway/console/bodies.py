"""The console's request bodies, read whole within a size limit and a time limit.

The guard reads and bounds the bodies of the webhook and `/config` before any route runs;
the console's actions take small JSON bodies too, and FastAPI would read any body in full
before the admin check, so this middleware (inside the guard: only viewers get here) reads
them the same way and refuses a larger one with 413 before it is held in memory.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from eaflow.gateway.context import Gateway
from eaflow.gateway.events import Refused, Request, answer
from eaflow.gateway.guard import CONFIG_BODY_LIMIT, client_of, receive_body, replayed

PREFIX = "/console/api/"


class ConsoleBodies:
    """ASGI middleware: bodies of `/console/api/*` at most CONFIG_BODY_LIMIT bytes."""

    def __init__(self, app: ASGIApp, gateway: Gateway) -> None:
        self.app = app
        self.gw = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in ("GET", "HEAD")
            or not scope["path"].startswith(PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            body = await receive_body(
                receive, headers, CONFIG_BODY_LIMIT, self.gw.config.body_timeout
            )
        except Refused as raw:
            client = client_of(scope)
            seen = Request(
                ip=client.shown, path=scope["path"], user_agent=headers.get("user-agent", "")
            )
            await answer(await self.gw.security.refuse(raw, seen))(scope, receive, send)
            return
        await self.app(scope, replayed(body, receive), send)
