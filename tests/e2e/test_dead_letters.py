"""A signal the router cannot handle is dead-lettered; after the fix, `eaflow dlq retry` routes
it once."""

from __future__ import annotations

import time
from collections.abc import Callable

import orjson
import pytest
import redis

from model import OrderStatus
from tests.e2e.conftest import results, seed, send_raw, wait_for_results, write_market
from tests.e2e.workers import Worker, eaflow

pytestmark = pytest.mark.slow


def test_dead_lettered_signal_is_routed_once_after_the_fix(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker]
) -> None:
    seed(redis_url, 1)
    write_market(redis_client)
    router = workers("rtss", "orders")
    deadline = time.monotonic() + 60
    while not redis_client.exists("ea:symbols:demo-1") and time.monotonic() < deadline:
        time.sleep(0.05)  # the executor publishes its symbols when it starts
    redis_client.delete("ea:ticks:EURUSD")
    redis_client.set("ea:ticks:EURUSD", "not a stream")  # an operator's mistake: WRONGTYPE
    signal = {"order_id": "dlq-1", "symbol": "EURUSD", "order_type": "buy", "volume": "0.01"}
    send_raw(redis_client, signal)
    deadline = time.monotonic() + 60
    while redis_client.xlen("ea:dlq:rtss") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)

    shown = eaflow("dlq", "show", "rtss", "--json", "--redis", redis_url)
    assert shown.returncode == 0, shown.stderr
    [letter] = orjson.loads(shown.stdout)
    assert letter["deliveries"] == 5  # the default max_deliveries
    assert letter["error"].startswith("ResponseError: WRONGTYPE")
    assert letter["group"] == "router" and letter["stream"] == "ea:rtss"
    assert orjson.loads(letter["data"]) == signal
    assert results(redis_client) == []
    assert router.alive

    redis_client.delete("ea:ticks:EURUSD")
    write_market(redis_client)
    retried = eaflow("dlq", "retry", "rtss", "--redis", redis_url)
    assert retried.returncode == 0, retried.stderr
    assert "retried 1 of 1" in retried.stdout
    [result] = wait_for_results(redis_client, 1)
    assert (result.order_id, result.status) == ("dlq-1", OrderStatus.FILLED)

    again = eaflow("dlq", "retry", "rtss", "--redis", redis_url)
    assert again.returncode == 0 and "retried 0 of 0" in again.stdout
    marker = {"order_id": "after", "symbol": "EURUSD", "order_type": "buy", "volume": "0.01"}
    send_raw(redis_client, marker)  # routed after anything retried before it
    found = wait_for_results(redis_client, 2)
    assert [r.order_id for r in found] == ["dlq-1", "after"]
    assert redis_client.xlen("ea:dlq:rtss") == 0
    assert router.alive
