"""Keep trying to reach a terminal: every 5 s, with MT5's last error in the log each time.

A terminal that is starting, updating or logging in refuses `initialize()` for a while; an
executor waits for it rather than dying, and says why in the log (e.g. `(-6, "Authorization
failed")` for a wrong password, `(-10004, "No IPC connection")` when the terminal is not running).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import structlog

from brokers.types import BrokerUnavailable

log = structlog.get_logger(__name__)

RETRY_INTERVAL = 5.0  # seconds between attempts: the original design's broker reconnect


class Connectable(Protocol):
    async def connect(self) -> None: ...


async def connect_with_retry(
    broker: Connectable, instance: str, interval: float = RETRY_INTERVAL, attempts: int = 0
) -> None:
    """Return once `broker.connect()` succeeded; `attempts` > 0 gives up after that many,
    re-raising the last BrokerUnavailable."""
    attempt = 0
    while True:
        attempt += 1
        try:
            await broker.connect()
        except BrokerUnavailable as error:
            log.warning(
                "broker_connect_failed",
                instance=instance,
                attempt=attempt,
                error=str(error),
                retry_in=interval,
            )
            if attempts and attempt >= attempts:
                raise
            await asyncio.sleep(interval)
            continue
        if attempt > 1:
            log.info("broker_connected", instance=instance, attempts=attempt)
        return
