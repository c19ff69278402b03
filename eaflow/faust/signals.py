"""Signals from a Faust app into eaflow's `rtss`, checked as the webhook checks an alert's.

A Faust app is one more alert source: it sends under a source name of its own (created
with `eaflow sources add NAME --instances …`), and each signal goes through the same
steps as a webhook's, after the authentication a Redis client has no need of: the source
must exist and be enabled; its session binding keeps the signal within its instances
(a group is narrowed to its members); the signal is validated (`model.Signal`), with
`source` set to the source's name; signals count against the source's rate limit per
minute. A refusal raises `SignalRefused` naming the field and the rule, nothing is sent.

Give each signal a `signal_id` derived from what caused it (the bar, the symbol): an
event processed again after a crash (Faust is at-least-once) then sends the same signal
again, and eaflow gives a signal sent again no second order (decision 0006).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from eaflow.gateway.auth import bind
from eaflow.gateway.events import Refused
from eaflow.gateway.ratelimit import RateLimiter
from eaflow.gateway.sources import Source, SourceStore
from model import InstanceSpec, Signal, refusal_of
from model.topics import Topics
from processors.registry import InstanceRegistry
from streams import App, AppSettings


class SignalRefused(Exception):
    """A signal that eaflow would refuse: `field` and `rule` say why."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class SignalSender:
    """Sends signals into `rtss` of eaflow at `redis_url` as alert source `source`.

    Example::

        signals = SignalSender("redis://localhost:6379/0", source="strategy")
        await signals.send(symbol="EURUSD", order_type="buy", volume="0.1",
                           signal_id="ma-EURUSD-1765000000")
    """

    def __init__(self, redis_url: str, *, source: str, prefix: str = "ea:") -> None:
        self.source_name = source
        self.app = App(AppSettings(redis_url=redis_url, prefix=prefix, name=f"faust:{source}"))
        self.topics = Topics(self.app)
        self.sources = SourceStore(self.app.redis, prefix)
        self.registry = InstanceRegistry(self.app.redis, prefix)
        self.limiter = RateLimiter(self.app.redis, prefix)
        self.sent = 0

    async def check(self, fields: dict[str, Any]) -> dict[str, Any]:
        """The signal as it would be written, or SignalRefused."""
        source = await self.sources.get(self.source_name)
        if source is None:
            raise SignalRefused(
                "source",
                f"no source '{self.source_name}': add it with "
                f"`eaflow sources add {self.source_name} --instances …`",
            )
        if not source.enabled:
            raise SignalRefused("source", f"source '{source.name}' is disabled")
        fields = dict(fields)
        fields.pop("secret", None)
        specs: dict[str, InstanceSpec] = {}
        if not source.bound_to_all:
            specs = await self.registry.all()
        try:
            bind(fields, source, specs)
        except Refused as refusal:
            raise SignalRefused(refusal.field, refusal.rule) from None
        return validated(fields, source)

    async def send(self, **fields: Any) -> str:
        """Check one signal, count it against the source's limit, write it; its id."""
        signal = await self.check(fields)
        source = await self.sources.get(self.source_name)
        assert source is not None  # checked above
        wait = await self.limiter.hit(source.name, source.rate_limit)
        if wait is not None:
            raise SignalRefused(
                "source",
                f"source '{source.name}' may send {source.rate_limit} signals a minute "
                f"(again in {wait} s)",
            )
        await self.topics.rtss.send(signal)
        self.sent += 1
        return str(signal["signal_id"])

    async def close(self) -> None:
        await self.app.redis.aclose()


def validated(fields: dict[str, Any], source: Source) -> dict[str, Any]:
    """The signal's JSON fields under `source`'s name, or SignalRefused."""
    try:
        signal = Signal.model_validate({**fields, "source": source.name})
    except ValidationError as error:
        field, rule = refusal_of(error)
        raise SignalRefused(field, rule) from None
    return signal.model_dump(mode="json", exclude_none=True)
