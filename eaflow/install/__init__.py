"""Which components run for each worker topic: built-ins here, plugins by entry point."""

from __future__ import annotations

from typing import TYPE_CHECKING

from brokers.types import Broker
from eaflow.gateway.server import install_gateway
from eaflow.install.orders import install_manager, spawn_schemes, split_hosting
from eaflow.install.ticks import install_ticks
from eaflow.plugins import with_plugins
from processors.executor.agent import Executor
from processors.executor.reconcile import Reconciler
from processors.executor.records import OrderRecords
from processors.executor.startup import connect_instances, reconcile_instances
from processors.router.agent import Router
from sinks.install import install_sinks

if TYPE_CHECKING:
    from eaflow.install.pipeline import Installer, Pipeline

STATE_INTERVAL = 0.5


async def install_router(p: Pipeline) -> None:
    router = Router(p.topics, p.registry, p.redis)
    p.app.agent(p.topics.rtss, group="router")(router.handle)
    p.app.timer(STATE_INTERVAL)(router.refresh)
    p.app.task(router.prices.run, name="router-prices")
    p.running.append("router: rtss → orders:{instance} / rtrs (group router)")


async def install_executors(p: Pipeline) -> None:
    specs = await p.registry.all()
    hosted = [i for i in (p.instances or tuple(specs)) if i in specs]
    missing = set(p.instances) - set(specs)
    if missing:
        raise ValueError(f"instances: unknown instance {', '.join(sorted(missing))}")
    hosted, apart = split_hosting(specs, hosted, spawn_schemes(p.settings.spawn))
    brokers = await connect_instances(specs, hosted, p.redis_url, p.settings.prefix, p.settings.mt5)
    for instance, broker in brokers.items():
        await p.registry.publish_symbols(instance, list(await broker.symbols()))
        p.brokers[instance] = broker
    reconciler = Reconciler(p.topics, p.redis, OrderRecords(p.redis, p.settings.prefix))
    await reconcile_instances(reconciler, brokers, specs)
    sessions: dict[str, Broker] = dict(p.brokers)  # the manager swaps them on restarts
    executor = Executor(p.topics, p.registry, p.redis, sessions, reconciler=reconciler)
    await executor.refresh()
    p.app.timer(STATE_INTERVAL)(executor.refresh_limits)
    if hosted:
        p.app.agent([p.topics.orders(i) for i in hosted], group="executor")(executor.handle)
    await install_manager(p, specs, hosted, apart, sessions, executor.refresh)
    p.running.append(f"executor: orders:{{{', '.join(hosted)}}} → rtrs")


def installers() -> dict[str, Installer]:
    return with_plugins(
        {
            "rtss": install_router,
            "rtrs": install_sinks,
            "orders": install_executors,
            "ticks": install_ticks,
            "gateway": install_gateway,
        }
    )
