"""`POST /webhook/tradingview`: read an alert, check who sent it, write its signals to `rtss`.

Checks in order, each refusal a 4xx with the reason and an event in `security`: IP
allowlist, body size, readable alert, source, secret or signature, the source's own
allowlist, session binding, rate limit, valid signal. Valid signals are written in one
transaction and answered at once with their ids (TradingView gives up after 3 seconds).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect

from eaflow.gateway.addresses import allowed, client_address
from eaflow.gateway.alerts import AlertError, Draft, read_body, signals
from eaflow.gateway.auth import authenticate, bind, check_address
from eaflow.gateway.context import Gateway, gateway
from eaflow.gateway.events import Refused
from eaflow.gateway.events import Request as Seen
from eaflow.gateway.sources import Source
from model import InstanceSpec, Signal, refusal_of

router = APIRouter(tags=["webhook"])


class Accepted(BaseModel):
    signal_id: str
    signal_ids: list[str]
    ignored: list[str] = []


class Refusal(BaseModel):
    error: str
    field: str
    reason: str


EXAMPLES = {
    "json": {
        "summary": "JSON",
        "value": {
            "secret": "<your secret>",
            "action": "buy",
            "symbol": "EURUSD",
            "volume": 0.1,
            "sl_pips": 20,
        },
    },
}
BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The alert message: JSON, a command line or KEY=VALUE lines "
        "(docs/alerts.md). The content decides, not the Content-Type.",
        "content": {
            "application/json": {"schema": {"type": "object"}, "examples": EXAMPLES},
            "text/plain": {
                "schema": {"type": "string"},
                "example": "tradingview,buy,EURUSD,risk=0.1,sl=20,secret=<secret>",
            },
        },
    }
}


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise Refused(400, "malformed", "content-length", "is not a number of bytes")
        if int(declared) > limit:
            raise Refused(413, "size", "body", f"is {declared} bytes; the limit is {limit}")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise Refused(413, "size", "body", f"is over the limit of {limit} bytes")
    except ClientDisconnect:
        raise Refused(
            400, "malformed", "body", "the client left before sending all of it"
        ) from None
    return bytes(body)


def given(draft: Draft, name: str) -> str | None:
    entry = draft.get(name)
    return None if entry is None else str(entry[1])


async def source_of(gw: Gateway, draft: Draft, fallback: str) -> Source:
    name = given(draft, "source") or fallback
    source = await gw.sources.get(name)
    if source is None:
        raise Refused(401, "source", "source", f"unknown source '{name[:64]}'")
    if not source.enabled:
        raise Refused(403, "source", "source", f"source '{source.name}' is disabled")
    return source


def validated(fields: dict[str, Any], source: Source) -> dict[str, Any]:
    try:
        signal = Signal.model_validate({**fields, "source": source.name})
    except ValidationError as error:
        field, rule = refusal_of(error)
        raise Refused(422, "invalid", field, rule) from None
    return signal.model_dump(mode="json", exclude_none=True)


async def accept(gw: Gateway, request: Request, seen: dict[str, Any]) -> JSONResponse:
    shown, client = client_address(
        request.client.host if request.client else None, request.headers, gw.proxies
    )
    seen["ip"] = shown
    if not allowed(client, gw.allowlist):
        raise Refused(403, "allowlist", "ip", f"{shown or 'the client'} is not in the allowlist")
    body = await read_limited(request, gw.config.body_limit)
    try:
        drafts = read_body(body, gw.config.max_signals)
    except AlertError as error:
        raise Refused(
            error.status, "malformed" if error.status == 400 else "invalid", error.field, error.rule
        ) from None
    seen["secrets"] = [s for d in drafts if (s := given(d, "secret"))]
    fallback = request.query_params.get("source") or gw.config.default_source
    signature = request.headers.get(gw.config.signature_header)
    specs: dict[str, InstanceSpec] | None = None
    out: list[dict[str, Any]] = []
    ignored: list[str] = []
    limited: set[str] = set()
    for draft in drafts:
        source = await source_of(gw, draft, fallback)
        seen["source"] = source.name
        seen["secrets"].append(source.secret)
        authenticate(source, given(draft, "secret"), body, signature, gw.config.signature_header)
        check_address(source, client, shown)
        if source.name not in limited:
            limited.add(source.name)
            wait = await gw.limiter.hit(source.name, source.rate_limit)
            if wait is not None:
                raise Refused(
                    429,
                    "rate_limit",
                    "source",
                    f"source '{source.name}' sent more "
                    f"than {source.rate_limit} requests this minute",
                    wait,
                )
        try:
            planned, skipped = signals(draft, source.defaults)
        except AlertError as error:
            raise Refused(error.status, "invalid", error.field, error.rule) from None
        ignored += skipped
        for fields in planned:
            if not source.bound_to_all and specs is None:
                specs = await gw.registry.all()
            bind(fields, source, specs or {})
            out.append(validated(fields, source))
    pipe = gw.redis.pipeline(transaction=True)
    rtss = gw.topics.rtss
    for signal in out:
        pipe.xadd(rtss.key, rtss.fields(signal), **rtss.limits())
    await pipe.execute()
    ids = [s["signal_id"] for s in out]
    return JSONResponse(
        Accepted(
            signal_id=ids[0], signal_ids=ids, ignored=list(dict.fromkeys(ignored))
        ).model_dump()
    )


@router.post(
    "/webhook/tradingview",
    response_model=Accepted,
    responses={code: {"model": Refusal} for code in (400, 401, 403, 413, 422, 429)},
    openapi_extra=BODY_DOC,
    summary="Receive a TradingView alert",
)
async def webhook(request: Request, gw: Annotated[Gateway, Depends(gateway)]) -> JSONResponse:
    """Valid alerts become signals in `rtss`; the answer carries their ids."""
    seen: dict[str, Any] = {"ip": "", "secrets": [], "source": None}
    try:
        return await accept(gw, request, seen)
    except Refused as raw:
        refusal = raw.scrubbed(seen["secrets"])
        await gw.security.refused(
            refusal,
            Seen(
                ip=seen["ip"],
                path=request.url.path,
                user_agent=request.headers.get("user-agent", ""),
                source=seen["source"],
            ),
        )
        headers = {"Retry-After": str(refusal.retry_after)} if refusal.retry_after else None
        return JSONResponse(
            Refusal(error=str(refusal), field=refusal.field, reason=refusal.kind).model_dump(),
            status_code=refusal.status,
            headers=headers,
        )
