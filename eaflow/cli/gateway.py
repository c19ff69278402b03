"""`eaflow gateway`: the HTTP gateway alone (webhook, UDF datafeed, chart page)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from eaflow.cli.options import PrefixOption, RedisOption, require_redis, settings_from
from eaflow.config.service import ConfigService
from eaflow.config.store import ConfigStore
from eaflow.gateway.app import create_app
from eaflow.gateway.config import GatewayConfig
from eaflow.gateway.server import GatewayServer, usage
from processors.registry import InstanceRegistry
from sinks.database import database_path
from streams.clients import async_client

ListOption = Annotated[list[str] | None, typer.Option(help="Repeat or separate with commas.")]


def split(values: list[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(p for v in values for p in v.split(",") if p)


def gateway(
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    allow: ListOption = None,
    trusted_proxy: ListOption = None,
    body_limit: Annotated[int | None, typer.Option(help="Largest body in bytes.")] = None,
) -> None:
    """Serve POST /webhook/tradingview, the UDF datafeed at /udf, the chart at / and the
    configuration API at /config (for admin sources: eaflow sources add NAME --admin).

    --allow takes IPs, CIDRs, `tradingview`, `loopback` or `*` (default: tradingview and
    loopback); --trusted-proxy names the reverse proxies whose X-Forwarded-For is believed.
    """
    settings = settings_from(redis, prefix)
    url = require_redis(settings)
    try:
        config = GatewayConfig.from_env(
            host=host,
            port=port,
            allow=split(allow),
            trusted_proxies=split(trusted_proxy),
            body_limit=body_limit,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    asyncio.run(_serve(url, settings.prefix, config, database_path(settings.data_dir)))


async def _serve(url: str, prefix: str, config: GatewayConfig, db: Path) -> None:
    client = async_client(url)
    service = ConfigService(ConfigStore(db), InstanceRegistry(client, prefix))
    app = create_app(client, prefix, config, settings=service)
    created = await app.state.gateway.sources.ensure_default()
    console = Console(stderr=True)
    where = f"http://{config.host}:{config.port}"
    console.print(f"eaflow gateway on {where} (chart /, webhook /webhook/tradingview, API /docs)")
    for line in usage(created, where) if created is not None else []:
        console.print(line, highlight=False, soft_wrap=True)
    serving = asyncio.ensure_future(GatewayServer(app, config.host, config.port).run())
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, serving.cancel)
    try:
        await serving
    except asyncio.CancelledError:
        console.print("eaflow gateway stopped")
    finally:
        await client.aclose()


def register(app: typer.Typer) -> None:
    app.command()(gateway)
