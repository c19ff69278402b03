"""Crashes and poison: nothing is lost, nothing is executed twice, no worker dies of input."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Callable

import orjson
import pytest
import redis

from model import OrderStatus
from tests.e2e.conftest import (
    entries,
    positions,
    results,
    seed,
    wait_for_results,
    write_market,
)
from tests.e2e.workers import Worker, eaflow
from tests.tools import need

pytestmark = pytest.mark.slow
FAST_CLAIM = {"EAFLOW_CLAIM_IDLE_MS": "300", "EAFLOW_CLAIM_INTERVAL_MS": "200"}


def test_sigkilled_workers_lose_nothing_and_place_nothing_twice(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker]
) -> None:
    instances = seed(redis_url, 3)
    write_market(redis_client)
    signals = [
        {
            "order_id": f"k-{n}",
            "symbol": "EURUSD",
            "order_type": "buy",
            "volume": "0.01",
            "instances": [instances[n % 3]],
        }
        for n in range(300)
    ]
    first = workers("rtss", "orders", env=FAST_CLAIM)
    sent = eaflow("send", "-", "--redis", redis_url, input=orjson.dumps(signals).decode())
    assert sent.returncode == 0, sent.stderr
    deadline = time.monotonic() + 60
    while len(results(redis_client)) < 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    first.kill()  # mid-stream: some entries read but not acked
    workers("rtss", "orders", env=FAST_CLAIM)
    found = wait_for_results(redis_client, 300, timeout=120)
    time.sleep(1.0)  # anything still in flight would show up as an extra result
    found = results(redis_client)
    assert Counter(r.order_id for r in found) == Counter(s["order_id"] for s in signals)
    assert {r.status for r in found} == {OrderStatus.FILLED}
    tickets = [p.ticket for n in (1, 2, 3) for p in positions(redis_url, n)]
    assert len(tickets) == len(set(tickets)) == 300
    for group_info in redis_client.xinfo_groups("ea:rtss"):
        assert group_info["pending"] == 0


def test_a_poisoned_entry_is_dead_lettered_and_the_worker_goes_on(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker]
) -> None:
    seed(redis_url, 1)
    write_market(redis_client)
    worker = workers("rtss", "orders")
    port = redis_client.connection_pool.connection_kwargs["port"]
    poison = subprocess.run(
        [need("redis-cli"), "-p", str(port), "XADD", "ea:rtss", "*", "d", "{this is not json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert poison.returncode == 0
    redis_client.xadd("ea:rtss", {"wrong": b"field"})
    redis_client.xadd(
        "ea:rtss",
        {
            "d": orjson.dumps(
                {"order_id": "after", "symbol": "EURUSD", "order_type": "buy", "volume": 0.01}
            )
        },
    )
    found = wait_for_results(redis_client, 1)
    assert [r.order_id for r in found] == ["after"] and found[0].status is OrderStatus.FILLED
    deadline = time.monotonic() + 10
    while redis_client.xlen("ea:dlq:rtss") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    dead = entries(redis_client, "ea:dlq:rtss")
    assert len(dead) == 2
    assert dead[0][1][b"d"] == b"{this is not json" and dead[0][1][b"error"]
    assert worker.alive
    status = eaflow("status", "--redis", redis_url)
    assert status.returncode == 0 and "dlq" in status.stdout


def test_a_signal_sent_again_gets_no_second_result(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker]
) -> None:
    """A client retrying sends signals twice: the rejected one keeps its one `rejected`
    result, the filled one its one fill, and an order id rejected once is not executed
    later under a corrected body (its record is terminal)."""
    (instance,) = seed(redis_url, 1)
    write_market(redis_client)
    order: dict[str, object] = {"symbol": "EURUSD", "order_type": "buy", "instances": [instance]}
    rejected = order | {"order_id": "again-r", "volume": "0.015"}  # off the 0.01 step
    filled = order | {"order_id": "again-f", "volume": "0.01"}
    corrected = rejected | {"volume": "0.01"}
    marker = order | {"order_id": "again-last", "volume": "0.01"}
    workers("rtss", "orders")

    def send(batch: list[dict[str, object]]) -> None:
        sent = eaflow("send", "-", "--redis", redis_url, input=orjson.dumps(batch).decode())
        assert sent.returncode == 0, sent.stderr

    send([rejected, filled])
    wait_for_results(redis_client, 2)
    send([rejected, filled, corrected, marker])  # in order: the marker's result comes last
    wait_for_results(redis_client, 3)
    time.sleep(1.0)  # a second result would show up now
    found = results(redis_client)
    assert Counter(r.order_id for r in found) == {"again-r": 1, "again-f": 1, "again-last": 1}
    assert {r.order_id: r.status for r in found}["again-r"] is OrderStatus.REJECTED
    assert len(positions(redis_url, 1)) == 2  # again-f and again-last, nothing else
