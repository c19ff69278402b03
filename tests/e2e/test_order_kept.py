"""Order kept across crashes (issue 24): a worker killed holding entries is succeeded by one
that finishes them first, at once, before anything newer of the same stream."""

from __future__ import annotations

import time
from collections.abc import Callable

import orjson
import pytest
import redis

from model import OrderStatus
from tests.e2e.conftest import (
    PREFIX,
    positions,
    results,
    seed,
    send_raw,
    wait_for_results,
    write_market,
)
from tests.e2e.workers import Worker

pytestmark = pytest.mark.slow
SLOW_CLAIMS = {"EAFLOW_CLAIM_IDLE_MS": "600000"}
"""Idle claims far beyond the tests' 60 s: only the takeover of a known dead consumer can
deliver a dead worker's entries in time, so a result at all proves it (no timing asserted)."""


def lease(client: redis.Redis, topic: str, group: str) -> str | None:
    holder = client.get(f"{PREFIX}lease:{topic}:{group}")
    return None if holder is None else bytes(holder).decode()  # type: ignore[arg-type]


def until(condition: Callable[[], bool], what: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {within:.0f} s")
        time.sleep(0.01)


def test_a_burst_killed_midway_is_executed_in_stream_order(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker]
) -> None:
    [instance] = seed(redis_url, 1)
    write_market(redis_client)
    workers("rtss", name="router", env=SLOW_CLAIMS)
    first = workers("orders", name="orders", env=SLOW_CLAIMS)
    until(lambda: lease(redis_client, f"orders:{instance}", "executor") is not None, "lease")
    burst = [f"burst-{n}" for n in range(150)]
    pipe = redis_client.pipeline(transaction=False)
    for order_id in burst:
        body = {"order_id": order_id, "symbol": "EURUSD", "order_type": "buy", "volume": "0.01",
                "instances": [instance]}  # fmt: skip
        pipe.xadd(f"{PREFIX}rtss", {"d": orjson.dumps(body)})
    pipe.execute()
    until(lambda: len(results(redis_client)) >= 60, "60 results")
    first.kill()  # holding the batch in hand, its lease and its pending entries
    workers("orders", name="orders", env=SLOW_CLAIMS)
    wait_for_results(redis_client, len(burst), timeout=60)
    time.sleep(0.5)  # a second execution would show up as an extra result
    found = results(redis_client)
    assert [r.order_id for r in found] == burst  # once each, in the order they were sent
    assert {r.status for r in found} == {OrderStatus.FILLED}
    tickets = [p.ticket for p in positions(redis_url, 1)]
    assert len(tickets) == len(set(tickets)) == len(burst)


def test_a_close_never_overtakes_the_buy_a_killed_router_held(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker]
) -> None:
    instances = seed(redis_url, 3)
    write_market(redis_client)
    router = workers("rtss", name="router", env=SLOW_CLAIMS)
    until(lambda: lease(redis_client, "rtss", "router") is not None, "the router's lease")
    holder = lease(redis_client, "rtss", "router")
    assert holder is not None
    router.kill()
    # The router died holding the buy: read by it (in its pending list), never routed.
    send_raw(redis_client, {"order_id": "entry", "symbol": "NZDUSD", "order_type": "buy",
                            "volume": "0.01", "instances": instances})  # fmt: skip
    redis_client.xreadgroup("router", holder, {f"{PREFIX}rtss": ">"}, count=1)
    send_raw(redis_client, {"order_id": "exit", "action": "close", "side": "long",
                            "symbol": "NZDUSD", "instances": instances})  # fmt: skip
    workers("orders", name="orders", env=SLOW_CLAIMS)
    leased = [f"orders:{i}" for i in instances]  # symbols published: the router sees them
    until(lambda: all(lease(redis_client, t, "executor") for t in leased), "executor leases")
    workers("rtss", name="router", env=SLOW_CLAIMS)
    found = wait_for_results(redis_client, 2 * len(instances), timeout=60)
    by_order = {(r.order_id, r.instance): r for r in found}
    for instance in instances:
        assert by_order[("entry", instance)].status is OrderStatus.FILLED
        close = by_order[("exit", instance)]
        assert close.status is OrderStatus.CLOSED, (close.status, close.error)
    assert all(not positions(redis_url, n) for n in (1, 2, 3))  # nothing left open
