"""The gateway's own settings: where it listens and what it lets through."""

from __future__ import annotations

import os
import re
from typing import Annotated

from pydantic import Field, field_validator

from eaflow.gateway.addresses import ANY, Network, parse_allowlist
from model.base import Message

ENV = {
    "allow": "EAFLOW_GATEWAY_ALLOW",
    "trusted_proxies": "EAFLOW_GATEWAY_TRUSTED_PROXIES",
    "server_names": "EAFLOW_GATEWAY_SERVER_NAMES",
    "body_limit": "EAFLOW_GATEWAY_BODY_LIMIT",
    "live_max": "EAFLOW_GATEWAY_LIVE_MAX",
    "live_per_client": "EAFLOW_GATEWAY_LIVE_PER_CLIENT",
    "viewer_token": "EAFLOW_GATEWAY_VIEWER_TOKEN",
}
LISTS = frozenset({"allow", "trusted_proxies", "server_names"})
LABEL = r"[a-z0-9]([a-z0-9\-]{0,61}[a-z0-9])?"
SERVER_NAME = re.compile(rf"{LABEL}(\.{LABEL})*")


class GatewayConfig(Message):
    """Frozen, keyword-only; unknown fields are refused.

    allow: IPs, CIDRs or presets (`tradingview`, `loopback`; `*` for every address) that
      may reach the gateway (every path but `/healthz`). The default lets TradingView and
      this machine in.
    trusted_proxies: peers whose `X-Forwarded-For` is believed (your reverse proxy).
    server_names: host names the gateway answers to (`alerts.example.com`) besides IP
      addresses and `localhost`: a request with another `Host` is refused, so a web page
      on a name of its own cannot reach the gateway through DNS rebinding.
    viewer_token: opens the chart page, `/api`, `/udf` and `/docs` (None: a random one is
      made; `eaflow gateway` and `eaflow run` keep it in the data directory).
    body_limit: bytes; a longer body is refused with 413 before it is read in full.
    body_timeout: seconds to receive a whole request body, else 408.
    signature_window: seconds a signed request's timestamp may be off; a signature is
      remembered that long (twice, to cover both sides) so it is accepted once.
    refusals_per_minute: refused requests of one client address recorded per minute;
      past it they are answered 429 and not recorded one by one (nor logged).
    refusals_recorded_per_minute: the same cap over every address, so the capped
      `security` stream cannot be flushed of its history by a spread-out flood.
    admin_attempts, admin_lockout: wrong `Authorization` tokens on `/config` from one
      address within `admin_lockout` seconds before it is locked out for the rest of them.
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
    server_names: tuple[str, ...] = ()
    viewer_token: Annotated[str | None, Field(min_length=16, max_length=200, repr=False)] = None
    body_timeout: Annotated[float, Field(gt=0, le=300)] = 10.0
    signature_window: Annotated[int, Field(ge=1, le=3600)] = 300
    refusals_per_minute: Annotated[int, Field(ge=1)] = 60
    refusals_recorded_per_minute: Annotated[int, Field(ge=1)] = 600
    admin_attempts: Annotated[int, Field(ge=1)] = 10
    admin_lockout: Annotated[float, Field(gt=0)] = 900.0
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

    @field_validator("server_names")
    @classmethod
    def _names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        names = tuple(v.strip().lower().rstrip(".") for v in value if v.strip())
        for name in names:
            if not SERVER_NAME.fullmatch(name):
                raise ValueError(
                    f"server_names: '{name}' is not a host name (give names such as "
                    "alerts.example.com, without scheme or port)"
                )
        return names

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
        """EAFLOW_GATEWAY_ALLOW / _TRUSTED_PROXIES / _SERVER_NAMES (comma lists), _BODY_LIMIT,
        _VIEWER_TOKEN; options on top."""
        values: dict[str, object] = {}
        for name, env in ENV.items():
            raw = os.environ.get(env)
            if raw is not None:
                values[name] = (
                    tuple(p for p in raw.split(",") if p.strip()) if name in LISTS else raw
                )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
