"""`POST /webhook/tradingview`: read an alert, check who sent it, write its signals to `rtss`.

The guard (guard.py) has checked the Host, the gateway's IP allowlist and read the body
within its size and time limits. Then, in order, each refusal a 4xx with the reason and an
event in `security`: readable alert, the source's own allowlist, secret or signed
timestamp (an unknown source answers like a wrong secret), a signature seen before,
session binding, valid signals, rate limit (signals per source and minute). Valid signals
are written in one transaction (held by the replicas the deployment waits for: publish.py)
and answered at once with their ids (TradingView gives up after 3 seconds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from eaflow.gateway.alerts import AlertError, Draft, read_body, signals
from eaflow.gateway.auth import Signature, authenticate, bind, check_address, read_signature
from eaflow.gateway.context import Gateway, gateway
from eaflow.gateway.events import Refused, answer, scrub
from eaflow.gateway.events import Request as Recorded
from eaflow.gateway.guard import Client, client_of
from eaflow.gateway.publish import publish
from eaflow.gateway.sources import Source
from model import InstanceSpec, Signal, refusal_of

router = APIRouter(tags=["webhook"])


class Accepted(BaseModel):
    """`replicated` (only where replicas are waited for, `EAFLOW_WAIT_REPLICAS`): false when
    the signals are written but no replica confirmed them in time. They will very likely be
    executed: do not send them again."""

    signal_id: str
    signal_ids: list[str]
    ignored: list[str] = []
    replicated: bool | None = None


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


def given(draft: Draft, name: str) -> str | None:
    entry = draft.get(name)
    return None if entry is None else str(entry[1])


@dataclass
class Seen:
    """What a refusal is recorded with: the source once known, and every secret the
    request carried (blanked out of the answer and the record with every source's)."""

    source: str | None = None
    secrets: list[str] = field(default_factory=list)


async def identify(
    gw: Gateway,
    draft: Draft,
    fallback: str,
    body: bytes,
    signature: Signature | None,
    client: Client,
) -> Source:
    """The draft's source, once its allowlist lets the client in (checked first, so a 403
    never confirms a right secret) and its secret or signature is right."""
    name = given(draft, "source") or fallback
    source = await gw.sources.get(name)
    if source is not None:
        check_address(source, client.address, client.shown)
    header = gw.config.signature_header
    source = authenticate(source, name, given(draft, "secret"), body, signature, header)
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


def signature_in(gw: Gateway, request: Request) -> Signature | None:
    header = gw.config.signature_header
    values = request.headers.getlist(header)
    if not values:
        return None
    if len(values) > 1:
        raise Refused(401, "signature", header, "is given more than once")
    return read_signature(values[0], header, gw.config.signature_window)


async def plan(
    gw: Gateway, sent: list[tuple[Draft, Source]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The signals of every draft, validated; names ignored; signals per source. A refusal
    is raised only once every draft is counted (a refused draft counts as one)."""
    out: list[dict[str, Any]] = []
    ignored: list[str] = []
    counts: dict[str, tuple[Source, int]] = {}
    first: Refused | None = None
    specs: dict[str, InstanceSpec] | None = None
    for draft, source in sent:
        made: list[dict[str, Any]] = []
        try:
            try:
                planned, skipped = signals(draft, source.defaults)
            except AlertError as error:
                raise Refused(error.status, "invalid", error.field, error.rule) from None
            ignored += skipped
            for fields in planned:
                if not source.bound_to_all and specs is None:
                    specs = await gw.registry.all()
                bind(fields, source, specs or {})
                made.append(validated(fields, source))
        except Refused as refusal:
            first = first or refusal
        counts[source.name] = (source, counts.get(source.name, (source, 0))[1] + max(1, len(made)))
        out += made
    await within_limits(gw, list(counts.values()))
    if first is not None:
        raise first
    return out, ignored


async def within_limits(gw: Gateway, counts: list[tuple[Source, int]]) -> None:
    """Each source's signals count against its limit per minute (a request over it is
    refused whole): a limit of requests would let a body of twenty lines through as one."""
    for source, count in counts:
        wait = await gw.limiter.hit(source.name, source.rate_limit, count=count)
        if wait is not None:
            raise Refused(
                429,
                "rate_limit",
                "source",
                f"source '{source.name}' may send {source.rate_limit} signals a minute; "
                f"this request holds {count} and goes over it",
                wait,
            )


async def accept(gw: Gateway, request: Request, seen: Seen) -> JSONResponse:
    client = client_of(request.scope)
    body = await request.body()  # read whole by the guard, within its size and time limits
    try:
        drafts = read_body(body, gw.config.max_signals)
    except AlertError as error:
        raise Refused(
            error.status, "malformed" if error.status == 400 else "invalid", error.field, error.rule
        ) from None
    seen.secrets += [s for d in drafts if (s := given(d, "secret"))]
    fallback = request.query_params.get("source") or gw.config.default_source
    signature = signature_in(gw, request)
    sent: list[tuple[Draft, Source]] = []
    for draft in drafts:
        source = await identify(gw, draft, fallback, body, signature, client)
        seen.source = source.name
        sent.append((draft, source))
    if signature is not None and not await gw.replays.first(signature.digest):
        raise Refused(
            401,
            "signature",
            gw.config.signature_header,
            "was accepted before: a signed request is accepted once (a replay); "
            "sign each request anew, with the time it is sent",
        )
    out, ignored = await plan(gw, sent)
    replicated = await publish(gw.redis, gw.topics.rtss, out, gw.durability)
    ids = [s["signal_id"] for s in out]
    accepted = Accepted(
        signal_id=ids[0],
        signal_ids=ids,
        ignored=scrubbed(ignored, seen.secrets),
        replicated=replicated,
    )
    return JSONResponse(accepted.model_dump(exclude_none=True))


def scrubbed(names: list[str], secrets: list[str]) -> list[str]:
    """Ignored names as written, none of them holding a secret of the request."""
    return list(dict.fromkeys(scrub(n, secrets) for n in names))


@router.post(
    "/webhook/tradingview",
    response_model=Accepted,
    responses={code: {"model": Refusal} for code in (400, 401, 403, 408, 413, 422, 429)},
    openapi_extra=BODY_DOC,
    summary="Receive a TradingView alert",
)
async def webhook(request: Request, gw: Annotated[Gateway, Depends(gateway)]) -> JSONResponse:
    """Valid alerts become signals in `rtss`; the answer carries their ids."""
    seen = Seen()
    try:
        return await accept(gw, request, seen)
    except Refused as raw:
        recorded = Recorded(
            ip=client_of(request.scope).shown,
            path=request.url.path,
            user_agent=request.headers.get("user-agent", ""),
            source=seen.source,
        )
        return answer(await gw.security.refuse(raw, recorded, seen.secrets))
