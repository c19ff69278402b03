"""Issue 18, item 1: live streams cannot starve the order path.

One worker process runs the gateway, the router, the executors and the tick feed on one
Redis, as `eaflow run` does. 250 chart clients (`GET /api/live`, 5 from each of 50
loopback addresses) hold their streams open: more than redis-py's default pool of 100
connections, which each stream used to hold during its blocking XREAD. Valid alerts are
still answered 200 and filled, the tick feed keeps writing, no task or timer fails, and
every stream sees the fills."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis

from eaflow.gateway.sources import Source
from model import OrderStatus
from tests.e2e.conftest import PREFIX, results, seed
from tests.e2e.workers import Worker
from tests.eaflow.gateway.live_clients import LiveClient, close_all, open_many
from tests.redis_server import free_port

pytestmark = pytest.mark.slow

STREAMS, PER_ADDRESS = 250, 5
ALERTS = 20
SECRET = "live-load-secret-0123456789"
VIEWER = "live-load-viewer-0123456789"  # the read endpoints' token, where they ask for one
AUTH = (("Authorization", f"Bearer {VIEWER}"),)


def last_tick_id(client: redis.Redis, symbol: str) -> bytes | None:
    found: Any = client.xrevrange(f"{PREFIX}ticks:{symbol}", count=1)
    return bytes(found[0][0]) if found else None


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_live_streams_beyond_the_pool_leave_alerts_and_the_tick_feed_working(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    seed(redis_url, 1)
    source = Source(name="tradingview", secret=SECRET, rate_limit=10_000)
    redis_client.hset(f"{PREFIX}sources", source.name, source.model_dump_json())
    port = free_port()
    worker = workers(
        "gateway", "rtss", "orders", "ticks",
        env={"EAFLOW_HTTP_PORT": str(port), "EAFLOW_GATEWAY_ALLOW": "loopback",
             "EAFLOW_GATEWAY_VIEWER_TOKEN": VIEWER, "EAFLOW_DATA_DIR": str(tmp_path)},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: listening(base) and last_tick_id(redis_client, "EURUSD") is not None,
               f"gateway and tick feed up (log: {worker.log})")  # fmt: skip
    answers, clients = asyncio.run(alerts_beside_live_streams(port))
    refused = [(a.status_code, a.text) for a in answers if a.status_code != 200]
    assert not refused, refused
    assert all(c.status == 200 for c in clients), {c.status for c in clients}
    signal_ids = {a.json()["signal_id"] for a in answers}

    def filled() -> bool:
        return len([r for r in results(redis_client) if r.signal_id in signal_ids]) >= ALERTS

    wait_until(filled, "a result for every alert")
    mine = [r for r in results(redis_client) if r.signal_id in signal_ids]
    assert {r.status for r in mine} == {OrderStatus.FILLED}, mine
    before = last_tick_id(redis_client, "EURUSD")
    wait_until(lambda: last_tick_id(redis_client, "EURUSD") != before, "the tick feed goes on")
    log = worker.log.read_text(errors="replace")
    for failure in ("task.failed", "timer.failed", "MaxConnectionsError", "Too many connections"):
        assert failure not in log, failure
    order_ids = {r.order_id for r in mine}
    for client in clients:  # every stream saw ticks and the fills (the last result is ours)
        assert client.events["tick"] > 0 and client.events["result"] >= ALERTS, client.events
        assert orjson.loads(client.last["result"])["result"]["order_id"] in order_ids


def listening(base: str) -> bool:
    try:
        return httpx.get(f"{base}/udf/time", headers=dict(AUTH), timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


async def alerts_beside_live_streams(port: int) -> tuple[list[httpx.Response], list[LiveClient]]:
    """Open the streams, post the alerts one after another while they are open, then wait
    until every stream has seen a result (or ended) before closing them."""
    query = "symbol=EURUSD&instance=demo-1"
    clients = await open_many("127.0.0.1", port, query, STREAMS, PER_ADDRESS, AUTH)
    answers = []
    try:
        await asyncio.sleep(2)  # every stream in its blocking read at least once
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            body = f"tradingview,buy,EURUSD,vol_lots=0.01,instances=demo-1,secret={SECRET}"
            for _ in range(ALERTS):
                answers.append(await http.post("/webhook/tradingview", content=body))
        with contextlib.suppress(TimeoutError):  # the assertions say what is missing
            async with asyncio.timeout(30):  # every stream sees every fill (or ends)
                for client in clients:
                    while client.events["result"] < ALERTS and not client.ended:
                        client.changed.clear()
                        await client.changed.wait()
    finally:
        await close_all(clients)
    return answers, clients
