"""The `gateway` worker: webhook, UDF datafeed, chart page and configuration API over HTTP."""

from __future__ import annotations

from eaflow.config.service import ConfigService
from eaflow.config.store import ConfigStore
from eaflow.gateway.app import create_app
from eaflow.gateway.config import GatewayConfig
from eaflow.gateway.server import GatewayServer, usage
from eaflow.install.pipeline import Pipeline
from sinks.database import database_path


async def install_gateway(p: Pipeline, config: GatewayConfig | None = None) -> None:
    """Serve on settings.http_host/http_port (or `config`, from `eaflow gateway`'s options);
    signals go out through `p.topics.rtss`."""
    if config is None:
        config = GatewayConfig.from_env(host=p.settings.http_host, port=p.settings.http_port)
    service = ConfigService(ConfigStore(database_path(p.settings.data_dir)), p.registry)
    app = create_app(p.redis, p.topics, config, settings=service)
    created = await app.state.gateway.sources.ensure_default()
    server = GatewayServer(app, config.host, config.port)
    p.app.task(server.run, name="gateway")
    url = f"http://{config.host}:{config.port}"
    p.running.append(
        f"gateway: {url} (chart /, webhook /webhook/tradingview, API /docs, "
        "/config for admin sources)"
    )
    if created is not None:
        p.running += usage(created, url)
    else:
        p.running.append("  alert sources: eaflow sources list --show-secrets")
