"""A terminal that is not up yet is retried, with its last error in the log, until it is."""

from __future__ import annotations

import pytest
import redis
from structlog.testing import capture_logs

from brokers.mt5.broker import Mt5Broker
from brokers.mt5.session import connect_with_retry
from brokers.sim.server import SimServer
from brokers.sim.terminal import SimTerminal
from brokers.types import BrokerUnavailable
from tests.stubs import LOGIN, PREFIX


async def test_gives_up_after_the_attempts_with_the_last_error(
    redis_client: redis.Redis, server: SimServer
) -> None:
    broker = Mt5Broker(SimTerminal(redis_client, prefix=PREFIX), name="late", login=LOGIN + 5)
    with capture_logs() as logs, pytest.raises(BrokerUnavailable, match="Authorization failed"):
        await connect_with_retry(broker, "late", interval=0.01, attempts=3)
    failures = [e for e in logs if e["event"] == "broker_connect_failed"]
    assert [e["attempt"] for e in failures] == [1, 2, 3]
    assert all("Authorization failed" in e["error"] for e in failures)
    await broker.close()


async def test_connects_once_the_account_exists(
    redis_client: redis.Redis, server: SimServer
) -> None:
    broker = Mt5Broker(SimTerminal(redis_client, prefix=PREFIX), name="late", login=LOGIN + 6)

    class OpenedWhileWaiting:
        """The real broker; the account appears after the first refused attempt."""

        attempts = 0

        async def connect(self) -> None:
            self.attempts += 1
            if self.attempts == 2:
                server.open_account(LOGIN + 6)
            await broker.connect()

    waiting = OpenedWhileWaiting()
    with capture_logs() as logs:
        await connect_with_retry(waiting, "late", interval=0.01)
    assert waiting.attempts == 2
    assert [e["event"] for e in logs] == ["broker_connect_failed", "broker_connected"]
    assert (await broker.account_info()).login == LOGIN + 6  # type: ignore[union-attr]
    await broker.close()
