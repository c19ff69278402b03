"""TradingView in and out: the webhook gateway, its security, the UDF datafeed and the chart."""

from eaflow.gateway.app import create_app
from eaflow.gateway.config import GatewayConfig
from eaflow.gateway.server import GatewayServer
from eaflow.gateway.sources import Source, SourceStore

__all__ = [
    "GatewayConfig",
    "GatewayServer",
    "Source",
    "SourceStore",
    "create_app",
]
