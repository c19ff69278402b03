"""An instance manager over two Redis servers: the pipeline's (which tests may kill) and
the simulated trade server's (the session Redis, which holds the accounts)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from brokers.factory import broker_for
from brokers.mt5.broker import Mt5Broker
from brokers.sim.server import SimServer
from model import InstanceReport, InstanceSpec
from model.topics import Topics
from processors.manager.config import ManagerConfig, manager_redis
from processors.manager.manager import InstanceManager
from processors.manager.slot import Slot
from processors.manager.state_sync import StateSync, SyncConfig
from processors.registry import InstanceRegistry
from processors.sessions import Sessions
from streams import App, AppSettings
from tests.redis_server import RedisServer

PREFIX = "ea:"
CONFIG = ManagerConfig(
    interval=0.05, heartbeat=0.5, restart_delay=0.4, reconnect_interval=0.4, call_timeout=5.0
)


@dataclass
class Rig:
    manager: InstanceManager
    registry: InstanceRegistry
    sessions: Sessions
    server: RedisServer
    sim: SimServer

    @property
    def redis(self) -> aioredis.Redis:
        return self.registry.redis

    async def until(self, done: Callable[[], bool], cycles: int = 200) -> None:
        """Run manager cycles until `done()`; fail after `cycles` of them."""
        for _ in range(cycles):
            await self.manager.cycle()
            if done():
                return
            await asyncio.sleep(CONFIG.interval)
        raise AssertionError(f"not done after {cycles} cycles")

    async def reports(self) -> list[InstanceReport]:
        found: Any = await self.redis.xrange(f"{PREFIX}ris")
        return [InstanceReport.model_validate_json(f[b"d"]) for _, f in found]


def spec(instance_id: str, login: int, version: int = 1, **config: object) -> InstanceSpec:
    return InstanceSpec.model_validate(
        {"instance_id": instance_id, "login": login, "config_version": version, "config": config}
    )


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """The pipeline's Redis: a test may kill it and start it again on the same port."""
    server = RedisServer(workdir=tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
async def rig(own_redis: RedisServer, redis_url: str) -> AsyncIterator[Rig]:
    sim = SimServer(redis.Redis.from_url(redis_url), prefix=PREFIX)
    sim.open_account(6001, balance=10_000)
    sim.open_account(6002, balance=5_000)
    client = manager_redis(own_redis.url)
    registry = InstanceRegistry(client, PREFIX)
    specs = [spec("a", 6001), spec("b", 6002)]
    await registry.put(*specs)

    def factory(s: InstanceSpec) -> Mt5Broker:
        return broker_for(s.broker, s.instance_id, s.login, redis_url, PREFIX)

    sessions = Sessions()
    slots = {s.instance_id: Slot(s, factory, sessions, CONFIG) for s in specs}
    topics = Topics(App(AppSettings(redis_url=own_redis.url, prefix=PREFIX)))
    sync = StateSync(client, topics, SyncConfig(backoff=0.01, reconnect_interval=0.3))
    manager = InstanceManager(registry, sync, slots, config=CONFIG)
    yield Rig(manager, registry, sessions, own_redis, sim)
    await manager.close()
    await sessions.close()
    await client.aclose()
