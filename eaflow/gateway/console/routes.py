"""The console's page and what it reads: the overview (JSON and live) and the admin session."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.types import Receive, Scope, Send

from eaflow.gateway.admin import check_admin
from eaflow.gateway.chart import STATIC
from eaflow.gateway.console.hub import OverviewHub
from eaflow.gateway.console.session import admin_of, cookie_name, set_session
from eaflow.gateway.context import Gateway, gateway
from eaflow.gateway.guard import client_of
from eaflow.gateway.live import stream
from eaflow.gateway.livehub import LiveRefused, Subscriber

router = APIRouter(prefix="/console", tags=["console"])
Gw = Annotated[Gateway, Depends(gateway)]


async def hub_of(request: Request) -> OverviewHub:
    """FastAPI dependency: the process's overview reader (eaflow.gateway.console.install)."""
    found: OverviewHub = request.app.state.console
    return found


Hub = Annotated[OverviewHub, Depends(hub_of)]


class OverviewStream(StreamingResponse):
    """Ends its subscription however the response ends (as the chart's live stream)."""

    def __init__(self, hub: OverviewHub, sub: Subscriber) -> None:
        super().__init__(
            stream(sub),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self.hub, self.sub = hub, sub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.hub.unsubscribe(self.sub)


@router.get("", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(STATIC / "console.html", media_type="text/html")


@router.get("/api/overview", summary="Every instance's row of the overview, read now")
async def overview(hub: Hub) -> list[dict[str, Any]]:
    return list((await hub.read()).values())


@router.get(
    "/api/live",
    summary="The overview, live (text/event-stream): `snapshot` first, then changed `rows`",
    responses={
        429: {"description": "this client address holds its maximum of console streams"},
        503: {"description": "this gateway serves its maximum of console streams"},
    },
)
async def live(request: Request, hub: Hub) -> Response:
    try:
        sub = hub.subscribe(client_of(request.scope).shown)
    except LiveRefused as refused:
        return JSONResponse(
            {"error": str(refused), "field": "live", "reason": refused.reason},
            status_code=refused.status,
            headers={"Retry-After": "10"},
        )
    return OverviewStream(hub, sub)


@router.get("/api/session", summary="Who this console acts as: an admin's actor, or null")
async def session(request: Request, gw: Gw) -> dict[str, str | None]:
    return {"admin": await admin_of(request, gw)}


@router.post(
    "/api/session",
    summary="Sign in as an admin: Authorization: Bearer <secret of an admin source>",
)
async def sign_in(request: Request, gw: Gw) -> Response:
    actor = await check_admin(request, gw)
    name = actor.removeprefix("source:")
    source = await gw.sources.get(name)
    if source is None:  # removed since check_admin found it
        raise HTTPException(
            401, {"error": "authorization: its source is gone", "field": "authorization"}
        )
    response = JSONResponse({"admin": actor})
    set_session(response, request, gw, name, source.secret)
    return response


@router.delete("/api/session", summary="Sign out (the admin session cookie is dropped)")
async def sign_out(gw: Gw) -> Response:
    response = JSONResponse({"admin": None})
    response.delete_cookie(cookie_name(gw), path="/console")
    return response
