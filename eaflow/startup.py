"""Installing a worker's components while Redis or a broker is away: wait, then try again.

Installers read the registry, connect brokers, publish symbols and reconcile before any agent
runs; a Redis restarting at that moment (or a terminal that drops right after connecting)
used to end the worker with a traceback. Each attempt builds a fresh pipeline, so nothing a
failed attempt registered is installed twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from brokers.types import BrokerUnavailable
from eaflow.install.pipeline import Pipeline
from eaflow.install.workers import install

log = structlog.get_logger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError, BrokerUnavailable)
"""Errors of something not there yet (BusyLoadingError included): worth waiting for."""

RETRY_INTERVAL = 2.0
"""Seconds between attempts, as the design's Redis reconnect interval."""


async def install_when_ready(
    build: Callable[[], Pipeline], workers: Sequence[str], interval: float = RETRY_INTERVAL
) -> Pipeline:
    """`install(build(), workers)`, retried every `interval` seconds while Redis or a broker
    is unavailable; other errors (an unknown instance, a refused permission) propagate."""
    attempt = 1
    while True:
        pipeline = build()
        try:
            await install(pipeline, workers)
            return pipeline
        except UNAVAILABLE as error:
            log.warning(
                "install_waiting",
                workers=list(workers),
                attempt=attempt,
                error=f"{type(error).__name__}: {error}",
                retry_in=interval,
            )
            await pipeline.close()
            await asyncio.sleep(interval)
            attempt += 1
