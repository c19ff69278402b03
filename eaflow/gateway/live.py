"""`GET /api/live`: Server-Sent Events of one symbol's ticks, new results and account state.

One blocking XREAD (≤ 1 s) over `ticks:{symbol}` and `rtrs` per round; events: `tick`
(the newest tick of the round), `result` (with its chart marker), `state` (when the
instance's snapshot changed), and a comment line now and then so proxies keep it open.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from eaflow.gateway.chart import state_of
from eaflow.gateway.context import Gateway, gateway
from eaflow.gateway.markers import marker, position_types
from model import AccountState, Result
from model.tick import TickFormatError, decode_tick

router = APIRouter(tags=["chart"])
BLOCK_MS = 1000
KEEPALIVE = 15.0


def event(name: str, data: Any) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


async def last_id(gw: Gateway, key: str) -> bytes:
    entries: Any = await gw.redis.xrevrange(key, count=1)
    return bytes(entries[0][0]) if entries else b"0-0"


def tick_event(entries: list[Any]) -> bytes | None:
    for _, fields in reversed(entries):
        try:
            tick = decode_tick(fields.get(b"d", b""))
        except TickFormatError:
            continue
        return event("tick", {"time_msc": tick.time_msc, "bid": tick.bid, "ask": tick.ask})
    return None


def result_events(
    entries: list[Any], instance: str, symbol: str, state: AccountState | None
) -> list[bytes]:
    out = []
    for _, fields in entries:
        try:
            result = Result.model_validate_json(fields.get(b"d", b""))
        except ValidationError:
            continue
        if (instance and result.instance != instance) or (
            symbol and result.symbol not in (symbol, None)
        ):
            continue
        out.append(
            event(
                "result",
                {
                    "result": result.model_dump(mode="json"),
                    "marker": marker(result, position_types(state)),
                },
            )
        )
    return out


async def stream(gw: Gateway, request: Request, symbol: str, instance: str) -> AsyncIterator[bytes]:
    ticks, rtrs = gw.keys.ticks(symbol), gw.keys.rtrs
    last = {ticks: await last_id(gw, ticks), rtrs: await last_id(gw, rtrs)}
    seen_state: float | None = None
    quiet_since = time.monotonic()
    yield b"retry: 2000\n\n"
    while not await request.is_disconnected():
        reply: Any = await gw.redis.xread(last, block=BLOCK_MS, count=1000)  # type: ignore[arg-type]
        state = await state_of(gw, instance) if instance else None
        chunks: list[bytes] = []
        for key, entries in reply:
            name = key.decode()
            last[name] = entries[-1][0]
            if name == ticks:
                chunks += [e for e in [tick_event(entries)] if e is not None]
            else:
                chunks += result_events(entries, instance, symbol, state)
        if state is not None and state.ts != seen_state:
            seen_state = state.ts
            chunks.append(event("state", state.model_dump(mode="json")))
        if not chunks and time.monotonic() - quiet_since > KEEPALIVE:
            chunks.append(b": keep-alive\n\n")
        if chunks:
            quiet_since = time.monotonic()
            yield b"".join(chunks)


@router.get("/api/live", summary="Live ticks, results and state (text/event-stream)")
async def live(
    request: Request, gw: Annotated[Gateway, Depends(gateway)], symbol: str, instance: str = ""
) -> StreamingResponse:
    return StreamingResponse(
        stream(gw, request, symbol, instance),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
