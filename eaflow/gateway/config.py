"""The gateway's own settings: where it listens and what it lets through."""

from __future__ import annotations

import os
from typing import Annotated

from pydantic import Field, field_validator

from eaflow.gateway.addresses import ANY, Network, parse_allowlist
from model.base import Message

ENV = {
    "allow": "EAFLOW_GATEWAY_ALLOW",
    "trusted_proxies": "EAFLOW_GATEWAY_TRUSTED_PROXIES",
    "body_limit": "EAFLOW_GATEWAY_BODY_LIMIT",
    "live_max": "EAFLOW_GATEWAY_LIVE_MAX",
    "live_per_client": "EAFLOW_GATEWAY_LIVE_PER_CLIENT",
}


class GatewayConfig(Message):
    """Frozen, keyword-only; unknown fields are refused.

    allow: IPs, CIDRs or presets (`tradingview`, `loopback`; `*` for every address) that
      may post webhooks. The default lets TradingView and this machine in.
    trusted_proxies: peers whose `X-Forwarded-For` is believed (your reverse proxy).
    body_limit: bytes; a longer body is refused with 413 before it is read in full.
    max_signals: alerts in one body (a JSON array or several command lines).
    signature_header: where other senders put `sha256=<hex HMAC of the body>`.
    results_shown: how far back in `rtrs` the chart looks for results and markers.
    symbols_ttl: seconds the list of chart symbols is kept before it is read again.
    live_max, live_per_client: open `/api/live` streams per process (more: 503) and per
      client address (more: 429); every stream of a process shares one Redis reader.
    """

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8080
    allow: tuple[str, ...] = ("tradingview", "loopback")
    trusted_proxies: tuple[str, ...] = ()
    body_limit: Annotated[int, Field(ge=64, le=1_048_576)] = 16_384
    max_signals: Annotated[int, Field(ge=1, le=1000)] = 20
    signature_header: str = "X-Eaflow-Signature"
    default_source: str = "tradingview"
    security_maxlen: Annotated[int, Field(ge=100)] = 100_000
    results_shown: Annotated[int, Field(ge=1, le=10_000)] = 500
    symbols_ttl: Annotated[float, Field(ge=0)] = 5.0
    live_max: Annotated[int, Field(ge=1, le=100_000)] = 1000
    live_per_client: Annotated[int, Field(ge=1, le=10_000)] = 8

    @field_validator("allow")
    @classmethod
    def _allow(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        parse_allowlist(value, "allow")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(v.strip().lower() in ANY for v in value):
            raise ValueError(
                "trusted_proxies: name the proxies; trusting every address would "
                "let anyone choose the client address"
            )
        parse_allowlist(value, "trusted_proxies")
        return value

    @property
    def allowlist(self) -> tuple[Network, ...] | None:
        return parse_allowlist(self.allow)

    @property
    def proxies(self) -> tuple[Network, ...]:
        return parse_allowlist(self.trusted_proxies) or ()

    @classmethod
    def from_env(cls, **overrides: object) -> GatewayConfig:
        """EAFLOW_GATEWAY_ALLOW / _TRUSTED_PROXIES (comma lists), _BODY_LIMIT; options on top."""
        values: dict[str, object] = {}
        for name, env in ENV.items():
            raw = os.environ.get(env)
            if raw is not None:
                values[name] = (
                    tuple(p for p in raw.split(",") if p.strip())
                    if name in ("allow", "trusted_proxies")
                    else raw
                )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
