"""Assemble the pipeline: an App with the agents of the requested worker topics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from processors.topics import Topics

from brokers.mt5.broker import Mt5Broker
from eaflow.settings import Settings
from processors.registry import InstanceRegistry
from processors.ticks.replay import ReplayConfig
from streams import App, AppSettings
from streams.clients import async_client


@dataclass
class Pipeline:
    """What components need to install themselves into an app."""

    settings: Settings
    redis_url: str
    app: App
    topics: Topics
    redis: aioredis.Redis
    registry: InstanceRegistry
    instances: tuple[str, ...] = ()  # the instances this process hosts; () = all
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    brokers: dict[str, Mt5Broker] = field(default_factory=dict)
    running: list[str] = field(default_factory=list)  # human-readable "what runs here"


Installer = Callable[[Pipeline], Awaitable[None]]


def build_pipeline(
    settings: Settings,
    redis_url: str,
    instances: Sequence[str] = (),
    replay: ReplayConfig | None = None,
) -> Pipeline:
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


async def install(pipeline: Pipeline, workers: Sequence[str]) -> None:
    """Install the components of each worker topic (`rtss`, `orders`, `ticks`, ...)."""
    from eaflow.install import installers

    available = installers()
    unknown = [w for w in workers if w not in available]
    if unknown:
        raise ValueError(
            f"worker: unknown topic {', '.join(unknown)} (known: {', '.join(sorted(available))})"
        )
    for worker in workers:
        await available[worker](pipeline)
