"""Plug the instance manager into an orders worker: who runs where, and its app task.

`eaflow worker orders` hosts simulated instances as tasks in its own process and starts
one child worker per MT5 instance (`--spawn` chooses the broker schemes); a worker given a
single instance hosts it itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from urllib.parse import urlparse

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from brokers.factory import broker_for
from brokers.mt5.broker import Mt5Broker
from brokers.types import Broker
from eaflow.install.pipeline import Pipeline
from model import InstanceSpec
from processors.manager.children import Child, worker_command
from processors.manager.config import ManagerConfig
from processors.manager.manager import InstanceManager
from processors.manager.simbulk import SimAccounts
from processors.manager.slot import Slot
from processors.manager.snapshots import StateArchive, archive_states
from processors.manager.state_sync import StateSync, SyncConfig
from processors.registry import InstanceRegistry
from sinks.database import database_path
from streams.clients import async_client

REDIS_TIMEOUT = 2.0  # seconds: a Redis that does not answer counts as down


def spawn_schemes(text: str) -> frozenset[str]:
    """`--spawn sim,mt5` → {"sim", "mt5"}; "" spawns nothing."""
    return frozenset(s.strip().removesuffix("://") for s in text.split(",") if s.strip())


def split_hosting(
    specs: Mapping[str, InstanceSpec], hosted: Sequence[str], spawn: frozenset[str]
) -> tuple[list[str], list[str]]:
    """(instances run here, instances run one process each)."""
    if len(hosted) <= 1:
        return list(hosted), []
    apart = [i for i in hosted if urlparse(specs[i].broker).scheme in spawn]
    return [i for i in hosted if i not in apart], apart


def manager_redis(url: str) -> Redis:
    """A client that fails fast, so the manager's own retries decide (3, then every 2 s)."""
    return async_client(
        url,
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )


async def install_manager(
    p: Pipeline,
    specs: Mapping[str, InstanceSpec],
    local: Sequence[str],
    apart: Sequence[str],
    brokers: dict[str, Broker],
    on_pull: Callable[[], Awaitable[None]] | None = None,
) -> InstanceManager:
    """Add the manager (and the DuckDB state archive) to the app as background work.

    `brokers` is the executor's map: the manager swaps sessions in it on restarts.
    """
    settings = p.settings
    client = manager_redis(p.redis_url)
    config = ManagerConfig(interval=settings.sync_interval, spawn=spawn_schemes(settings.spawn))

    def factory(spec: InstanceSpec) -> Mt5Broker:
        return broker_for(
            spec.broker, spec.instance_id, spec.login, p.redis_url, settings.prefix, settings.mt5
        )

    live: dict[str, Mt5Broker] = p.brokers
    slots = {i: Slot(specs[i], factory, brokers, live, config) for i in local}
    extra = [
        "--log-format",
        settings.log_format,
        *(["--mt5", settings.mt5] if settings.mt5 else []),
    ]
    children = {
        i: Child(specs[i], worker_command(i, settings.prefix, extra), config, p.redis_url)
        for i in apart
    }
    sync = StateSync(client, p.topics, SyncConfig(interval=settings.sync_interval))
    registry = InstanceRegistry(client, settings.prefix)
    sims = any(urlparse(specs[i].broker).scheme == "sim" for i in local)
    bulk = SimAccounts(p.redis_url, settings.prefix) if sims else None
    manager = InstanceManager(
        registry, sync, slots, children, config, on_pull, owns_redis=True, bulk=bulk
    )
    p.app.task(manager.run, name="instance-manager")
    archive = StateArchive(database_path(settings.data_dir))
    every = settings.state_snapshot_interval

    async def snapshot() -> None:
        await archive_states(p.redis, p.topics, [*local, *apart], archive, max_age=every)

    p.app.timer(every, name="state-archive")(snapshot)
    p.running.append(
        f"instance manager: {len(local)} here, {len(apart)} in own processes; "
        f"state every {settings.sync_interval:g} s → rts, ris; DuckDB every {every:g} s"
    )
    return manager
