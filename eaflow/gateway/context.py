"""What every gateway route needs: Redis, the key names, sources, registry, limits and the
live feed's reader."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from redis.asyncio import Redis

from eaflow.gateway.config import GatewayConfig
from eaflow.gateway.events import SecurityLog
from eaflow.gateway.livehub import LiveHub
from eaflow.gateway.ratelimit import RateLimiter
from eaflow.gateway.sources import SourceStore
from model.topics import Topics
from processors.registry import InstanceRegistry


@dataclass
class Gateway:
    """Signals are published through `topics.rtss` (its codec); every other key comes from
    `keys` (model.keys)."""

    redis: Redis
    topics: Topics
    config: GatewayConfig = field(default_factory=GatewayConfig)

    def __post_init__(self) -> None:
        self.prefix = self.topics.prefix
        self.keys = self.topics.keys
        self.allowlist = self.config.allowlist  # parsed once, checked on every request
        self.proxies = self.config.proxies
        self.sources = SourceStore(self.redis, self.prefix)
        self.registry = InstanceRegistry(self.redis, self.prefix)
        self.security = SecurityLog(self.redis, self.keys.security, self.config.security_maxlen)
        self.limiter = RateLimiter(self.redis, self.prefix)
        self.live = LiveHub(  # every /api/live stream of this process: one Redis reader
            self.redis,
            self.keys,
            max_streams=self.config.live_max,
            per_client=self.config.live_per_client,
        )


async def gateway(request: Request) -> Gateway:
    """FastAPI dependency: the app's Gateway (async: a sync one would cost a thread hop)."""
    found: Gateway = request.app.state.gateway
    return found
