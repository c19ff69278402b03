"""Refusals of the gateway and the `security` stream where every one of them is recorded."""

from __future__ import annotations

import time
from dataclasses import dataclass

import orjson
import structlog
from redis.asyncio import Redis

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Refused(Exception):
    """A request the gateway turns away: HTTP status, the check that failed (`kind`: size,
    allowlist, malformed, invalid, source, secret, signature, binding, rate_limit), the
    field at fault and the rule. Texts never hold a secret."""

    status: int
    kind: str
    field: str
    rule: str
    retry_after: int | None = None

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"

    def scrubbed(self, secrets: list[str]) -> Refused:
        """The same refusal with any of `secrets` blanked out of its texts."""
        field, rule = self.field, self.rule
        for secret in secrets:
            if secret:
                field, rule = field.replace(secret, "***"), rule.replace(secret, "***")
        return Refused(self.status, self.kind, field, rule, self.retry_after)


@dataclass(frozen=True)
class Request:
    """What is recorded of a refused request: never its body, which may hold the secret."""

    ip: str
    path: str
    user_agent: str = ""
    source: str | None = None


class SecurityLog:
    """Appends `{"event": "webhook_refused", ...}` entries (JSON in field `d`) to `security`."""

    def __init__(self, redis: Redis, key: str, maxlen: int) -> None:
        self.redis = redis
        self.key = key
        self.maxlen = maxlen

    async def refused(self, refusal: Refused, request: Request) -> None:
        event = {
            "event": "webhook_refused",
            "kind": refusal.kind,
            "status": refusal.status,
            "field": refusal.field,
            "error": refusal.rule,
            "ip": request.ip,
            "source": request.source,
            "path": request.path,
            "user_agent": request.user_agent[:200],
            "ts": time.time(),
        }
        log.warning("webhook_refused", **{k: v for k, v in event.items() if k != "event"})
        await self.redis.xadd(
            self.key, {"d": orjson.dumps(event)}, maxlen=self.maxlen, approximate=True
        )
