"""What every gateway route needs: Redis, the key names, sources, registry and limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from redis.asyncio import Redis

from eaflow.gateway.config import GatewayConfig
from eaflow.gateway.events import Flood, SecurityLog
from eaflow.gateway.livehub import LiveHub
from eaflow.gateway.ratelimit import Lockout, RateLimiter, Replays
from eaflow.gateway.sources import SourceStore
from eaflow.gateway.viewer import Viewer, new_token
from model.topics import Topics
from processors.registry import InstanceRegistry
from streams.durable import Durability


@dataclass
class Gateway:
    """Signals are published through `topics.rtss` (its codec), held by the replicas
    `durability` asks for before they are answered; every other key comes from `keys`
    (model.keys). Without a viewer token in `config`, a random one is made (read it
    from `viewer.token`)."""

    redis: Redis
    topics: Topics
    config: GatewayConfig = field(default_factory=GatewayConfig)
    durability: Durability = field(default_factory=Durability)

    def __post_init__(self) -> None:
        config = self.config
        self.prefix = self.topics.prefix
        self.keys = self.topics.keys
        self.allowlist = config.allowlist  # parsed once, checked on every request
        self.proxies = config.proxies
        self.sources = SourceStore(self.redis, self.prefix)
        self.registry = InstanceRegistry(self.redis, self.prefix)
        flood = Flood(config.refusals_per_minute, config.refusals_recorded_per_minute)
        self.security = SecurityLog(
            self.redis, self.keys.security, config.security_maxlen, flood, self.secrets
        )
        self.limiter = RateLimiter(self.redis, self.prefix)
        self.replays = Replays(self.redis, self.prefix, config.signature_window)
        self.lockout = Lockout(config.admin_attempts, config.admin_lockout)
        self.viewer = Viewer(config.viewer_token or new_token())
        self.live = LiveHub(  # every /api/live stream of this process: one Redis reader
            self.redis, self.keys, max_streams=config.live_max, per_client=config.live_per_client
        )

    async def secrets(self) -> list[str]:
        """What no answer or record may show: every source's secret, the viewer token."""
        return [*await self.sources.secrets(), self.viewer.token]


async def gateway(request: Request) -> Gateway:
    """FastAPI dependency: the app's Gateway (async: a sync one would cost a thread hop)."""
    found: Gateway = request.app.state.gateway
    return found
