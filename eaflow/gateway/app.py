"""The gateway's FastAPI app: webhook, UDF datafeed, chart page and its live feed."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from redis.asyncio import Redis
from redis.exceptions import RedisError

from eaflow.config.service import ConfigService
from eaflow.gateway import chart, live, udf, webhook
from eaflow.gateway.admin import admin_router
from eaflow.gateway.bars import BarSource, StreamBars
from eaflow.gateway.chart import STATIC
from eaflow.gateway.config import GatewayConfig
from eaflow.gateway.console import install as install_console
from eaflow.gateway.context import Gateway
from eaflow.gateway.guard import Guard
from eaflow.gateway.symbols import ChartSymbols
from model.topics import Topics
from streams.durable import Durability

DESCRIPTION = """TradingView in and out.

* `POST /webhook/tradingview` takes alerts (JSON or text; see docs/alerts.md) and writes
  signals to `rtss`: its source's secret (or signature) opens it.
* `/udf/*` is a UDF datafeed for the TradingView Charting Library.
* `/` is a live chart of ticks, fills and positions.
* `/console` is the operator console: every account, live; admins act (docs/console.md).
* `/api/*`, `/udf/*`, `/docs` and `/` need the viewer token: `Authorization: Bearer
  <token>`, or the cookie of the link the gateway prints (`/?token=...`).
* `/config` is the configuration API: `Authorization: Bearer <secret of an admin source>`.
* `/healthz` answers `{"status": "ok"}` to anyone (probes); nothing else.
"""


def create_app(
    redis: Redis,
    topics: Topics,
    config: GatewayConfig | None = None,
    bars: BarSource | None = None,
    settings: ConfigService | None = None,
    durability: Durability | None = None,
) -> FastAPI:
    """The app over one Redis client, publishing signals through `topics.rtss` (held by the
    replicas `durability` asks for before the webhook answers); `bars` defaults to reading
    the tick streams; with `settings`, the configuration API is served at `/config` for
    admin sources."""
    app = FastAPI(title="eaflow gateway", description=DESCRIPTION, version="1")
    gw = Gateway(redis, topics, config or GatewayConfig(), durability or Durability())
    app.state.gateway = gw
    app.state.symbols = ChartSymbols(
        gw, bars or StreamBars(redis, topics.prefix), gw.config.symbols_ttl
    )
    for router in (webhook.router, udf.router, chart.router, live.router):
        app.include_router(router)
    if settings is not None:
        app.include_router(admin_router(settings))
    install_console(app, gw, settings)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(Guard, gateway=gw)

    @app.get("/healthz", tags=["health"], summary="Whether the gateway is up (open to all)")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {"loc": ("query",), "msg": "invalid"}
        field = ".".join(str(p) for p in first["loc"][1:]) or "request"
        return JSONResponse(
            {"error": f"{field}: {first['msg']}", "field": field, "reason": "invalid"},
            status_code=422,
        )

    @app.exception_handler(RedisError)
    async def unavailable(_: Request, error: RedisError) -> JSONResponse:
        return JSONResponse(
            {
                "error": "redis: unavailable, retry shortly",
                "field": "redis",
                "reason": "unavailable",
            },
            status_code=503,
        )

    return app
