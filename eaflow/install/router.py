"""The `rtss` worker: the router, its 500 ms refresh and its latest-prices task."""

from __future__ import annotations

from eaflow.install.pipeline import Pipeline
from processors.router.agent import GROUP, Router

REFRESH_INTERVAL = 0.5
"""Seconds between refreshes of instances, symbols and balances."""


async def install_router(p: Pipeline) -> None:
    router = Router(p.topics, p.registry, p.redis)
    router.serve(p.app)
    p.app.timer(REFRESH_INTERVAL)(router.refresh)
    p.app.task(router.prices.run, name="router-prices")
    p.running.append(f"router: rtss → orders:{{instance}} / rtrs (group {GROUP})")
