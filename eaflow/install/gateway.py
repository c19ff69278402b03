"""The `gateway` worker: webhook, UDF datafeed, chart page and configuration API over HTTP.

The gateway has a Redis client of its own, never the pipeline's (`p.redis`, shared in
`eaflow run` by the registry, the tick feed and the timers of the order path) nor the app's
(the agents'): however many HTTP clients it serves, it cannot take a connection from the
order path. Its pool is bounded (`POOL` connections): past it a request waits for a free
connection (at most `POOL_WAIT` s, then 503) instead of failing at once. The live feed
holds one connection of it at most (`eaflow.gateway.livehub`).
"""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from eaflow.config.service import ConfigService
from eaflow.config.store import ConfigStore
from eaflow.gateway.app import create_app
from eaflow.gateway.config import GatewayConfig
from eaflow.gateway.server import GatewayServer, usage
from eaflow.install.pipeline import Pipeline
from eaflow.passwords import stored_secret
from processors.registry import InstanceRegistry
from sinks.database import database_path
from streams.clients import async_client, is_cluster

CHART = "chart: "
"""Starts the line of the chart's link (it carries the viewer token: keep it private)."""
POOL = 64
"""Connections of the gateway's own Redis client (per node on a cluster)."""
POOL_WAIT = 2.0
"""Seconds a request waits for one of them: TradingView gives up after 3."""


def gateway_redis(url: str) -> Redis:
    """The gateway's own client: a bounded, blocking pool (a cluster client's per-node pool
    is bounded, not blocking)."""
    if is_cluster(url):
        return async_client(url, max_connections=POOL)
    return async_client(url, max_connections=POOL, pool_timeout=POOL_WAIT)


def viewer_token_path(data_dir: Path) -> Path:
    """Where the viewer token is kept when EAFLOW_GATEWAY_VIEWER_TOKEN gives none."""
    return data_dir / "gateway" / "viewer-token"


async def install_gateway(p: Pipeline, config: GatewayConfig | None = None) -> None:
    """Serve on settings.http_host/http_port (or `config`, from `eaflow gateway`'s options);
    signals go out through `p.topics.rtss`'s key and codec, on the gateway's own client,
    held by `EAFLOW_WAIT_REPLICAS` replicas before they are answered (decision 0019)."""
    if config is None:
        config = GatewayConfig.from_env(host=p.settings.http_host, port=p.settings.http_port)
    if config.viewer_token is None:  # kept across restarts, so a printed link stays good
        token = stored_secret(viewer_token_path(p.settings.data_dir))
        config = config.model_copy(update={"viewer_token": token})
    redis = gateway_redis(p.redis_url)
    p.closing.append(redis.aclose)
    registry = InstanceRegistry(redis, p.settings.prefix)
    service = ConfigService(ConfigStore(database_path(p.settings.data_dir)), registry)
    app = create_app(
        redis, p.topics, config, settings=service, durability=p.app.settings.durability
    )
    p.closing.insert(0, app.state.gateway.live.close)  # the live reader before its client
    p.closing.insert(0, app.state.console.close)  # and the console's
    created = await app.state.gateway.sources.ensure_default()
    server = GatewayServer(app, config.host, config.port)
    p.app.task(server.run, name="gateway")
    url = f"http://{config.host}:{config.port}"
    p.running.append(
        f"gateway: {url} (chart /, console /console, webhook /webhook/tradingview, "
        "API /docs, /config for admin sources)"
    )
    p.running.append(CHART + app.state.gateway.viewer.link(url))
    if created is not None:
        p.running += usage(created, url)
    else:
        p.running.append("  alert sources: eaflow sources list --show-secrets")
