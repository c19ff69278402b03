"""Refusals of the gateway and the `security` stream where they are recorded.

Every refusal is answered with the field and the rule at fault and recorded (a log line
and an entry in `security`), with every secret blanked out of both — unless its client
address has been refused too often this minute: then it is answered 429 and not recorded
one by one, so a flood of bad requests can neither fill the log nor push the history out
of the capped `security` stream.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace

import orjson
import structlog
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)

WINDOW = 60
ADDRESSES = 100_000  # addresses counted per window at most (memory under a spread flood)
RUN = re.compile(r"[A-Za-z0-9_\-]{8,}")


@dataclass(frozen=True)
class Refused(Exception):
    """A request the gateway turns away: HTTP status, the check that failed (`kind`: host,
    size, timeout, allowlist, malformed, invalid, source, secret, signature, viewer, admin,
    binding, rate_limit), the field at fault and the rule. `detail` is what the operator
    reads in the `security` event instead of the rule when the client must not learn it
    (an unknown source answers like a wrong secret). `close` ends the connection after
    the answer (a body left unread). Texts are scrubbed of secrets before they leave."""

    status: int
    kind: str
    field: str
    rule: str
    retry_after: int | None = None
    detail: str | None = None
    close: bool = False

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"

    def scrubbed(self, secrets: Iterable[str]) -> Refused:
        """The same refusal with any of `secrets`, or any part of one, blanked out."""
        kept = [s for s in secrets if s]
        detail = None if self.detail is None else scrub(self.detail, kept)
        return replace(
            self, field=scrub(self.field, kept), rule=scrub(self.rule, kept), detail=detail
        )


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with each secret, and each run of 8+ token characters found inside a secret
    (a secret cut short in a quoted value), replaced by `***`."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return RUN.sub(lambda m: "***" if any(m.group(0) in s for s in secrets) else m.group(0), text)


@dataclass(frozen=True)
class Request:
    """What is recorded of a refused request: never its body, which may hold the secret."""

    ip: str
    path: str
    user_agent: str = ""
    source: str | None = None


def answer(refusal: Refused) -> JSONResponse:
    """`{"error": "field: rule", "field", "reason"}` with the refusal's status."""
    headers = {"Retry-After": str(refusal.retry_after)} if refusal.retry_after else {}
    if refusal.close:
        headers["Connection"] = "close"
    return JSONResponse(
        {"error": str(refusal), "field": refusal.field, "reason": refusal.kind},
        status_code=refusal.status,
        headers=headers or None,
    )


def flood_key(ip: str) -> str:
    """Refusals are counted per address, per /64 for IPv6 (one host holds a whole /64)."""
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


@dataclass(frozen=True)
class Over:
    """A refusal past a cap: who is capped, whether it is the first past it, how long."""

    address: bool  # past the per-address cap (else the cap over every address)
    first: bool
    wait: int


class Flood:
    """Refusals counted per one-minute window, per address and in total, in this process."""

    def __init__(self, per_address: int, total: int) -> None:
        self.per_address = per_address
        self.total = total
        self.window = -1
        self.counts: dict[str, int] = {}
        self.all = 0
        self.noted = False  # the cap over all addresses was recorded this window

    def hit(self, ip: str, now: float | None = None) -> Over | None:
        now = time.time() if now is None else now
        window = int(now // WINDOW)
        if window != self.window:
            self.window, self.counts, self.all, self.noted = window, {}, 0, False
        key = flood_key(ip)
        count = self.counts.get(key, 0) + 1
        if count > 1 or len(self.counts) < ADDRESSES:  # past that, only the total counts
            self.counts[key] = count
        self.all += 1
        wait = max(1, int((window + 1) * WINDOW - now))
        if count > self.per_address:
            return Over(True, count == self.per_address + 1, wait)
        if self.all > self.total:
            first, self.noted = not self.noted, True
            return Over(False, first, wait)
        return None


class SecurityLog:
    """Appends `{"event": "webhook_refused", ...}` entries (JSON in field `d`) to `security`.

    `secrets` gives every source's secret, blanked out of whatever is recorded or answered.
    """

    def __init__(
        self,
        redis: Redis,
        key: str,
        maxlen: int,
        flood: Flood,
        secrets: Callable[[], Awaitable[list[str]]],
    ) -> None:
        self.redis = redis
        self.key = key
        self.maxlen = maxlen
        self.flood = flood
        self.secrets = secrets

    async def refuse(
        self, refusal: Refused, request: Request, secrets: Iterable[str] = ()
    ) -> Refused:
        """Record `refusal` and return what to answer: the refusal scrubbed of every secret,
        or a 429 without any of the request's input once its address is past its cap (the
        first refusal past it is recorded once, saying so)."""
        over = self.flood.hit(request.ip)
        limited = None
        if over is not None:
            limited = self._limited(over, request, refusal.close)
            if not over.first:
                return limited
            refusal = replace(
                limited,
                detail=f"{limited.rule.partition(';')[0]}: the next {over.wait} s of them "
                "are answered 429 and not recorded",
            )
        try:
            known = await self.secrets()
        except RedisError:  # a read-only (viewer) gateway may not read them
            known = []
        kept = [s for s in (*known, *secrets) if s]
        shown = refusal.scrubbed(kept)
        await self.record(
            shown,
            Request(
                ip=scrub(request.ip, kept),
                path=scrub(request.path, kept),
                user_agent=scrub(request.user_agent, kept),
                source=None if request.source is None else scrub(request.source, kept),
            ),
        )
        return replace(shown, detail=None) if limited is None else limited

    def _limited(self, over: Over, request: Request, close: bool) -> Refused:
        who = f"from {request.ip or 'this client'}" if over.address else "from all clients"
        limit = self.flood.per_address if over.address else self.flood.total
        return Refused(
            429,
            "rate_limit",
            "ip",
            f"more than {limit} refused requests {who} this minute; retry in {over.wait} s",
            over.wait,
            close=close,
        )

    async def record(self, refusal: Refused, request: Request) -> None:
        event = {
            "event": "webhook_refused",
            "kind": refusal.kind,
            "status": refusal.status,
            "field": refusal.field,
            "error": refusal.detail or refusal.rule,
            "ip": request.ip,
            "source": request.source,
            "path": request.path,
            "user_agent": request.user_agent[:200],
            "ts": time.time(),
        }
        log.warning("webhook_refused", **{k: v for k, v in event.items() if k != "event"})
        try:
            await self.redis.xadd(
                self.key, {"d": orjson.dumps(event)}, maxlen=self.maxlen, approximate=True
            )
        except RedisError as error:  # the refusal stands; the log line above records it
            log.error("security_event_not_written", error=type(error).__name__)
