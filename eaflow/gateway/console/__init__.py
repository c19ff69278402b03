"""The operator console at `/console`: every account on one page, live; admins act from it.

Served by the gateway behind its viewer token (the page and what it reads) and the admin
session (eaflow.gateway.console.session) for actions. See docs/console.md.
"""

from __future__ import annotations

from fastapi import FastAPI

from eaflow.config.service import ConfigService
from eaflow.gateway.console import equity, results, trades
from eaflow.gateway.console.actions import actions_router
from eaflow.gateway.console.bodies import ConsoleBodies
from eaflow.gateway.console.config import config_router
from eaflow.gateway.console.hub import OverviewHub
from eaflow.gateway.console.routes import router
from eaflow.gateway.context import Gateway


def install(app: FastAPI, gw: Gateway, settings: ConfigService | None) -> None:
    """Add the console's routes, its shared overview reader (`app.state.console`), the
    DuckDB file its result log and equity curve read (the configuration's,
    `app.state.console_database`; none without `settings`) and its body limit (call before
    the guard is added, so the guard runs first)."""
    app.state.console = OverviewHub(
        gw.registry,
        gw.keys,
        max_streams=gw.config.live_max,
        per_client=gw.config.live_per_client,
    )
    app.include_router(router)
    app.include_router(actions_router(settings))
    app.include_router(config_router(settings))
    app.include_router(trades.router)
    app.state.console_database = settings.store.path if settings is not None else None
    app.include_router(results.router)
    app.include_router(equity.router)
    app.add_middleware(ConsoleBodies, gateway=gw)
