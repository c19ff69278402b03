"""The pipeline a worker process installs its components into: app, topics, Redis, registry,
broker sessions, and a human-readable list of what runs here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import redis.asyncio as aioredis

from eaflow.settings import Settings
from model.topics import Topics
from processors.registry import InstanceRegistry
from processors.sessions import Sessions
from processors.ticks.replay import ReplayConfig
from streams import App, AppSettings
from streams.clients import async_client


@dataclass
class Pipeline:
    """What components need to install themselves into an app (plugins receive it too)."""

    settings: Settings
    redis_url: str
    app: App
    topics: Topics
    redis: aioredis.Redis
    registry: InstanceRegistry
    instances: tuple[str, ...] = ()  # the instances this process hosts; () = all
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    sessions: Sessions = field(default_factory=Sessions)  # broker sessions of this process
    running: list[str] = field(default_factory=list)  # human-readable "what runs here"
    closing: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    """What installers opened beside the app, closed last by `close`."""

    async def close(self) -> None:
        """Close what the pipeline opened: broker sessions, the installers' own resources and
        both Redis clients (the app's agents, if started, are stopped by `App.stop` first)."""
        await self.sessions.close()
        for close in self.closing:
            await close()
        await self.app.redis.aclose()
        await self.redis.aclose()


Installer = Callable[[Pipeline], Awaitable[None]]
"""Installs one worker topic's components (agents, timers, tasks) into a pipeline."""


def build_pipeline(
    settings: Settings,
    redis_url: str,
    instances: Sequence[str] = (),
    replay: ReplayConfig | None = None,
) -> Pipeline:
    """An empty pipeline on `redis_url`: nothing runs until installers add to its app."""
    replay = replay or ReplayConfig()
    app = App(
        AppSettings(
            redis_url=redis_url,
            prefix=settings.prefix,
            name="eaflow",
            start_id="0",  # a group created late still sees every signal and order already written
            claim_min_idle_ms=settings.claim_idle_ms,
            claim_interval=settings.claim_interval_ms / 1000,
            max_deliveries=settings.max_deliveries,
            lease_ms=settings.lease_ms,
            wait_replicas=settings.wait_replicas,
            wait_timeout_ms=settings.wait_timeout_ms,
        )
    )
    redis = async_client(redis_url)
    return Pipeline(
        settings=settings,
        redis_url=redis_url,
        app=app,
        topics=Topics(app, tick_maxlen=replay.maxlen),
        redis=redis,
        registry=InstanceRegistry(redis, settings.prefix),
        instances=tuple(instances),
        replay=replay,
    )
