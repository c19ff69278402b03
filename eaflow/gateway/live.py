"""`GET /api/live`: Server-Sent Events of one symbol's ticks, new results, trade states and
account state.

Every stream of a process is served by one reader (`eaflow.gateway.livehub.LiveHub`): one
blocking XREAD over the subscribed `ticks:{symbol}` streams, `rtrs` and `trades`, one MGET
of the subscribed snapshots, at most 5 rounds a second. Events: `tick` (the newest tick of
the round), `result` (with its chart marker), `trade` (a trade of the instance opened,
changed or closed: a `TradeState`), `state` (when the instance's snapshot changed),
and a comment line after 15 s of quiet so proxies keep it open. Streams are limited per
process and per client address (`GatewayConfig.live_max`, `live_per_client`): over a limit
the answer is 503 or 429 with the limit named, before anything is read from Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.types import Receive, Scope, Send

from eaflow.gateway.addresses import client_address
from eaflow.gateway.context import Gateway, gateway
from eaflow.gateway.livehub import LiveRefused, Subscriber

router = APIRouter(tags=["chart"])
RETRY = b"retry: 2000\n\n"  # EventSource reconnects 2 s after a stream ends


async def stream(sub: Subscriber) -> AsyncIterator[bytes]:
    yield RETRY
    while (chunk := await sub.next()) is not None:
        yield chunk


class LiveResponse(StreamingResponse):
    """Ends its subscription however the response ends: the client left (Starlette
    cancels it), the subscriber was dropped, the server stops, or it never started."""

    def __init__(self, gw: Gateway, sub: Subscriber) -> None:
        super().__init__(
            stream(sub),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self.gw, self.sub = gw, sub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.gw.live.unsubscribe(self.sub)


@router.get(
    "/api/live",
    summary="Live ticks, results, trades and state (text/event-stream)",
    responses={
        429: {"description": "this client address holds its maximum of live streams"},
        503: {"description": "this gateway serves its maximum of live streams"},
    },
)
async def live(
    request: Request,
    gw: Annotated[Gateway, Depends(gateway)],
    symbol: Annotated[str, Query(max_length=64)],
    instance: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    shown, _ = client_address(
        request.client.host if request.client else None,
        request.headers.getlist("x-forwarded-for"),
        gw.proxies,
    )
    try:
        sub = gw.live.subscribe(symbol, instance, shown)
    except LiveRefused as refused:
        return JSONResponse(
            {"error": str(refused), "field": "live", "reason": refused.reason},
            status_code=refused.status,
            headers={"Retry-After": "10"},
        )
    return LiveResponse(gw, sub)
