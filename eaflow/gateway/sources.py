"""Alert sources: who may send signals, with which secret, to which instances, from where.

Sources live in the Redis hash `{prefix}sources` (name → JSON), so every gateway process
reads the same ones and a change applies to the next request without a restart.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

import orjson
from pydantic import Field, field_validator
from redis.asyncio import Redis

from eaflow.gateway.addresses import parse_allowlist
from eaflow.gateway.alerts import Defaults
from model.base import Message
from model.enums import StopsUnit
from model.keys import Keys

SourceName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:#@+\-]+$")]
DEFAULT_SOURCE = "tradingview"
ALL = "*"


def new_secret() -> str:
    """32 URL-safe characters (192 random bits): no commas, quotes or spaces to escape."""
    return secrets.token_urlsafe(24)


class Source(Message):
    """One sender of alerts.

    `instances` is the session binding: the instances this source may trade (`*`: all).
    `allow` narrows the gateway's IP allowlist for this source (empty: the gateway's).
    `stops_unit`, `entry_unit`, `volume_type`, `symbols` and `symbol_suffix` say how its
    text commands read `sl=`/`tp=`, a pending order's `price=`, `risk=` and symbol names.
    An `admin` source's secret also opens the configuration API (`Authorization: Bearer <secret>`).
    """

    name: SourceName
    secret: Annotated[str, Field(min_length=16, max_length=200, repr=False)]
    instances: tuple[str, ...] = (ALL,)
    allow: tuple[str, ...] = ()
    require_signature: bool = False
    rate_limit: Annotated[int, Field(ge=1, le=100_000)] = 120  # requests per minute
    stops_unit: StopsUnit = StopsUnit.PIPS
    entry_unit: StopsUnit = StopsUnit.PRICE
    volume_type: Literal["lots", "risk_percent", "risk_money"] = "lots"
    symbols: dict[str, str] = Field(default_factory=dict)
    symbol_suffix: Annotated[str, Field(max_length=16)] = ""
    enabled: bool = True
    admin: bool = False

    @field_validator("instances")
    @classmethod
    def _instances(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("bind at least one instance, or '*' for all")
        if ALL in value and len(value) > 1:
            raise ValueError("'*' must stand alone")
        return value

    @field_validator("allow")
    @classmethod
    def _allow(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        parse_allowlist(value)
        return value

    @property
    def bound_to_all(self) -> bool:
        return self.instances == (ALL,)

    @property
    def defaults(self) -> Defaults:
        return Defaults(
            stops_unit=self.stops_unit,
            entry_unit=self.entry_unit,
            volume_type=self.volume_type,
            symbols=dict(self.symbols),
            symbol_suffix=self.symbol_suffix,
        )


class SourceStore:
    """The `{prefix}sources` hash."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.key = Keys(prefix).sources

    async def get(self, name: str) -> Source | None:
        raw = await self.redis.hget(self.key, name)
        return None if raw is None else Source.model_validate_json(raw)

    async def all(self) -> dict[str, Source]:
        raw: Any = await self.redis.hgetall(self.key)
        return {k.decode(): Source.model_validate_json(v) for k, v in raw.items()}

    async def secrets(self) -> list[str]:
        """Every source's secret (blanked out of whatever a refusal echoes)."""
        raw: Any = await self.redis.hgetall(self.key)
        found = []
        for value in raw.values():
            try:
                secret = orjson.loads(value).get("secret")
            except (orjson.JSONDecodeError, AttributeError):
                continue
            if isinstance(secret, str):
                found.append(secret)
        return found

    async def put(self, source: Source) -> None:
        await self.redis.hset(self.key, source.name, source.model_dump_json())

    async def remove(self, name: str) -> bool:
        return bool(await self.redis.hdel(self.key, name))

    async def ensure_default(self) -> Source | None:
        """On first start (no source at all) create `tradingview` with a new secret.

        Returns the new source so the caller can print its secret once; None when
        sources already exist. HSETNX makes two gateways starting together agree.
        """
        if await self.redis.hlen(self.key):
            return None
        source = Source(name=DEFAULT_SOURCE, secret=new_secret())
        created = await self.redis.hsetnx(self.key, source.name, source.model_dump_json())
        return source if created else None
