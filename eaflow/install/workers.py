"""The worker topics: built-in installers by the stream each reads, plugins by entry point."""

from __future__ import annotations

from collections.abc import Sequence

from eaflow.install.gateway import install_gateway
from eaflow.install.notify import install_notify
from eaflow.install.orders import install_executors
from eaflow.install.pipeline import Installer, Pipeline
from eaflow.install.router import install_router
from eaflow.install.sinks import install_sinks
from eaflow.install.ticks import install_ticks
from eaflow.plugins import with_plugins

BUILTINS: dict[str, Installer] = {
    "rtss": install_router,
    "rtrs": install_sinks,
    "orders": install_executors,
    "ticks": install_ticks,
    "gateway": install_gateway,
    "notify": install_notify,
}
"""Worker topics, named as the stream each reads (`gateway` reads HTTP)."""


def installers() -> dict[str, Installer]:
    """The built-in installers and every loadable plugin's."""
    return with_plugins(BUILTINS)


async def install(pipeline: Pipeline, workers: Sequence[str]) -> None:
    """Install the components of each worker topic (`rtss`, `orders`, `ticks`, ...)."""
    available = installers()
    unknown = [w for w in workers if w not in available]
    if unknown:
        raise ValueError(
            f"worker: unknown topic {', '.join(unknown)} (known: {', '.join(sorted(available))})"
        )
    for worker in workers:
        await available[worker](pipeline)
