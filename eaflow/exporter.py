"""Prometheus metrics over HTTP from every worker (`--metrics-port`), with stream gauges.

Counters and gauges are set where things happen (processors, the runtime, the instance
manager); this serves them and refreshes the stream gauges (length, group lag and
pending, DLQ size) from one `stream_status` scan every few seconds.
"""

from __future__ import annotations

import asyncio

import structlog
from prometheus_client import start_http_server
from redis.exceptions import RedisError

from eaflow.install.pipeline import Pipeline
from streams.inspect import stream_status

log = structlog.get_logger(__name__)

SCAN_INTERVAL = 5.0  # seconds between stream scans


def export_metrics(p: Pipeline, port: int, host: str = "0.0.0.0") -> int:
    """Serve `/metrics` on `port` (0: a free one) until the app stops; returns the port."""
    server, thread = start_http_server(port, addr=host)
    bound = int(server.server_port)

    async def serve() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

    async def scan() -> None:
        try:
            await stream_status(p.redis, p.settings.prefix)  # sets the stream gauges
        except (RedisError, OSError) as error:
            log.warning("stream_scan_failed", error=str(error))

    p.app.task(serve, name="metrics-http")
    p.app.timer(SCAN_INTERVAL, name="stream-metrics")(scan)
    p.running.append(f"metrics: http://{host}:{bound}/metrics")
    log.info("metrics_serving", host=host, port=bound)
    return bound
