"""`eaflow gateway`: the HTTP gateway alone (webhook, UDF datafeed, chart page)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from eaflow.cli.options import (
    DataDirOption,
    PrefixOption,
    RedisOption,
    require_redis,
    settings_from,
)
from eaflow.cli.running import print_running
from eaflow.gateway.config import GatewayConfig
from eaflow.install.gateway import install_gateway
from eaflow.install.pipeline import Pipeline, build_pipeline
from eaflow.runner import serve

ListOption = Annotated[list[str] | None, typer.Option(help="Repeat or separate with commas.")]
HostOption = Annotated[
    str, typer.Option("--host", envvar="EAFLOW_HTTP_HOST", help="The gateway's address.")
]
PortOption = Annotated[
    int,
    typer.Option("--port", envvar="EAFLOW_HTTP_PORT", min=0, max=65535, help="The gateway's port."),
]
GatewayHostOption = Annotated[
    str | None,
    typer.Option(
        "--host",
        envvar="EAFLOW_HTTP_HOST",
        help="gateway: the address it listens on (default 127.0.0.1).",
    ),
]
GatewayPortOption = Annotated[
    int | None,
    typer.Option(
        "--port",
        envvar="EAFLOW_HTTP_PORT",
        min=0,
        max=65535,
        help="gateway: the port it listens on (default 8080).",
    ),
]
"""`--host`/`--port` of the commands that may run the gateway among other things."""


def split(values: list[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(p for v in values for p in v.split(",") if p)


def gateway(
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
    host: HostOption = "127.0.0.1",
    port: PortOption = 8080,
    allow: ListOption = None,
    trusted_proxy: ListOption = None,
    server_name: ListOption = None,
    body_limit: Annotated[int | None, typer.Option(help="Largest body in bytes.")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Serve POST /webhook/tradingview, the UDF datafeed at /udf, the chart at / and the
    configuration API at /config (for admin sources: eaflow sources add NAME --admin).

    --allow takes IPs, CIDRs, `tradingview`, `loopback` or `*` (default: tradingview and
    loopback); --trusted-proxy names the reverse proxies whose X-Forwarded-For is believed;
    --server-name the host names it is reached by (alerts.example.com; IP addresses and
    localhost always work). The chart, /api, /udf and /docs need the viewer token: the
    link printed on start carries it (EAFLOW_GATEWAY_VIEWER_TOKEN, else kept in the data
    directory, --data-dir, with the configuration's DuckDB file).
    """
    settings = settings_from(redis, prefix)
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})
    url = require_redis(settings)
    try:
        config = GatewayConfig.from_env(
            host=host,
            port=port,
            allow=split(allow),
            trusted_proxies=split(trusted_proxy),
            server_names=split(server_name),
            body_limit=body_limit,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    asyncio.run(_serve(build_pipeline(settings, url), config))


async def _serve(pipeline: Pipeline, config: GatewayConfig) -> None:
    await install_gateway(pipeline, config)
    await serve(pipeline, lambda: print_running(pipeline))
    Console(stderr=True).print("eaflow gateway stopped")


def register(app: typer.Typer) -> None:
    app.command()(gateway)
