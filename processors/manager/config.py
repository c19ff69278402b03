"""`ManagerConfig`: how the instance manager supervises, with the original design's numbers."""

from __future__ import annotations

from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from streams.clients import async_client


@dataclass(frozen=True, kw_only=True)
class ManagerConfig:
    """Every interval in seconds."""

    interval: float = 0.5  # config pull, state sync and supervision cycle
    heartbeat: float = 5.0  # a heartbeat to `ris` at least this often per instance
    restart_delay: float = 3.0  # a crashed instance is started again after this
    reconnect_interval: float = 5.0  # an unreachable broker is tried again this often
    call_timeout: float = 10.0  # a broker snapshot slower than this counts as unreachable
    summary: float = 10.0  # a one-line summary of the instances in the log this often
    spawn: frozenset[str] = field(default_factory=lambda: frozenset({"mt5"}))
    """Broker URL schemes whose instances run one process each (MT5: one terminal per
    process); the others run as tasks in the manager's process."""

    def __post_init__(self) -> None:
        for name in (
            "interval",
            "heartbeat",
            "restart_delay",
            "reconnect_interval",
            "call_timeout",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: must be greater than 0")


REDIS_TIMEOUT = 2.0
"""Seconds: a Redis that does not answer within this counts as down."""


def manager_redis(url: str) -> Redis:
    """A client that fails fast, so the manager's own retries decide (3, then every 2 s)."""
    return async_client(
        url,
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )
