"""The `orders` worker: executors for the instances this process hosts, and their manager.

Installing takes five steps, in this order, before any order runs: choose who runs here
(`eaflow worker orders` hosts simulated instances as tasks in its own process and starts one
child worker per MT5 instance, `--spawn` choosing the schemes; a worker given one instance
hosts it itself), connect their brokers, publish their symbols for the router, reconcile
what a crash left `sent`, then start the executor agent and the instance manager.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from urllib.parse import urlparse

from brokers.factory import broker_for
from brokers.mt5.broker import Mt5Broker
from brokers.sim.market import SimMarket
from eaflow.install.pipeline import Pipeline
from model import InstanceSpec
from processors.executor.agent import GROUP, Executor
from processors.executor.reconcile import Reconciler
from processors.executor.records import OrderRecords
from processors.executor.startup import connect_instances, reconcile_instances
from processors.manager.children import Child, Shards, WorkerProcess, worker_command
from processors.manager.config import ManagerConfig, manager_redis
from processors.manager.manager import InstanceManager
from processors.manager.simbulk import SimAccounts
from processors.manager.slot import Slot
from processors.manager.snapshots import StateArchive, archive_states
from processors.manager.state_sync import StateSync, SyncConfig
from processors.registry import InstanceRegistry
from sinks.database import database_path
from streams.clients import sync_client

LIMITS_INTERVAL = 0.5
"""Seconds between reads of the hosted instances' states for the account limits."""


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


def session_factory(p: Pipeline) -> Callable[[InstanceSpec], Mt5Broker]:
    """Opens (does not connect) an instance's broker session; the simulated accounts of this
    process share one market (quotes, closed markets, ticket numbers)."""
    s = p.settings
    client = sync_client(p.redis_url)
    market = SimMarket(p.redis, client, s.prefix)

    async def close() -> None:
        client.close()

    p.closing.append(close)

    def factory(spec: InstanceSpec) -> Mt5Broker:
        return broker_for(
            spec.broker, spec.instance_id, spec.login, p.redis_url, s.prefix, s.mt5, market
        )

    return factory


async def install_executors(p: Pipeline) -> None:
    specs = await p.registry.all()
    missing = set(p.instances) - set(specs)
    if missing:
        raise ValueError(f"instances: unknown instance {', '.join(sorted(missing))}")
    hosted = [i for i in (p.instances or tuple(specs)) if i in specs]
    local, apart = split_hosting(specs, hosted, spawn_schemes(p.settings.spawn))
    s = p.settings
    local = sorted(local)  # shares by position: demo-1, demo-3 here; demo-2, demo-4 there
    local, shares = local[:: s.processes], [local[k :: s.processes] for k in range(1, s.processes)]
    if any(shares):
        install_shares(p, [share for share in shares if share])
    factory = session_factory(p)
    brokers = await connect_instances(specs, local, factory, s.mt5)
    for instance, broker in brokers.items():
        p.sessions.put(instance, broker)
        await p.registry.publish_symbols(instance, list(await broker.symbols()))
    records = OrderRecords(p.redis, s.prefix, durability=p.app.settings.durability)
    reconciler = Reconciler(p.topics, p.redis, records)
    await reconcile_instances(reconciler, brokers, specs)
    executor = Executor(p.topics, p.registry, p.redis, p.sessions, reconciler=reconciler)
    await executor.refresh()
    p.app.timer(LIMITS_INTERVAL)(executor.refresh_limits)
    if local:
        orders = [p.topics.orders(i) for i in local]
        p.app.agent(orders, group=GROUP, batch="streams", exclusive=True)(executor.handle)
    await install_manager(p, specs, local, apart, factory, executor.refresh)
    p.running.append(f"executor: orders:{{{', '.join(local)}}} → rtrs")


def install_shares(p: Pipeline, shares: Sequence[Sequence[str]]) -> None:
    """`--processes N`: this process keeps every N-th instance, and one worker process per
    further share hosts the rest (so executors use every core); they are restarted 3 s
    after they die and stopped with this one."""
    s = p.settings
    config = ManagerConfig(interval=s.sync_interval)
    extra = ["--log-format", s.log_format, *(["--mt5", s.mt5] if s.mt5 else [])]
    processes = [
        WorkerProcess(f"orders-{k}", worker_command(share, s.prefix, extra), config, p.redis_url)
        for k, share in enumerate(shares, 1)
    ]
    p.app.task(Shards(processes, config.interval).run, name="orders-shares")
    p.running.append(f"orders: {len(shares)} more processes for {sum(map(len, shares))} instances")


async def install_manager(
    p: Pipeline,
    specs: Mapping[str, InstanceSpec],
    local: Sequence[str],
    apart: Sequence[str],
    factory: Callable[[InstanceSpec], Mt5Broker],
    on_pull: Callable[[], Awaitable[None]] | None = None,
) -> InstanceManager:
    """Add the manager (and the DuckDB state archive) to the app as background work; it
    opens, swaps and stops the sessions of `p.sessions` that the executor trades through."""
    settings = p.settings
    client = manager_redis(p.redis_url)
    config = ManagerConfig(interval=settings.sync_interval, spawn=spawn_schemes(settings.spawn))
    slots = {i: Slot(specs[i], factory, p.sessions, config) for i in local}
    extra = [
        "--log-format",
        settings.log_format,
        *(["--mt5", settings.mt5] if settings.mt5 else []),
    ]
    children = {
        i: Child(specs[i], worker_command([i], settings.prefix, extra), config, p.redis_url)
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
