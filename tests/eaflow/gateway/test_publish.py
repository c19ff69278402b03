"""The webhook answers once a replica holds the signals (decision 0019), and says so when
none confirmed them in time, without refusing them: they are in the primary."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis
from prometheus_client import REGISTRY

from streams.durable import Durability
from tests.eaflow.gateway.served import PREFIX, Served, serving
from tests.eaflow.gateway.test_webhook import BUY
from tests.redis_server import RedisServer

METRIC = "eaflow_gateway_signals_not_replicated_total"


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[RedisServer, RedisServer]]:
    """A primary and its replica, in sync."""
    primary = RedisServer(tmp_path / "primary").start()
    replica = RedisServer(
        tmp_path / "replica", extra_args=("--replicaof", "127.0.0.1", str(primary.port))
    )
    try:
        replica.start()
        client = redis.Redis.from_url(primary.url)
        for _ in range(200):
            if int(client.wait(1, 50)) == 1:
                break
        else:
            pytest.fail("the replica never caught up")
        client.close()
        yield primary, replica
    finally:
        replica.stop()
        primary.stop()


def replicated_signals(replica: RedisServer) -> list[str]:
    client = redis.Redis.from_url(replica.url)
    try:
        found: Any = client.xrange(f"{PREFIX}rtss")
        return [orjson.loads(fields[b"d"])["signal_id"] for _, fields in found]
    finally:
        client.close()


def not_replicated() -> float:
    return REGISTRY.get_sample_value(METRIC) or 0.0


def post(served: Served, body: object) -> httpx.Response:
    return httpx.post(served.webhook, json=body, timeout=10)


def test_the_answer_comes_once_the_replica_holds_the_signals(
    pair: tuple[RedisServer, RedisServer],
) -> None:
    with serving(pair[0].url, durability=Durability(replicas=1, timeout_ms=5000)) as served:
        response = post(served, [BUY, {**BUY, "action": "sell"}])
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["replicated"] is True
        assert replicated_signals(pair[1]) == answer["signal_ids"]  # read at once, no waiting


def test_a_signal_no_replica_confirms_is_accepted_said_unreplicated_and_counted(
    pair: tuple[RedisServer, RedisServer],
) -> None:
    replica = pair[1].process
    assert replica is not None
    before = not_replicated()
    with serving(pair[0].url, durability=Durability(replicas=1, timeout_ms=300)) as served:
        os.kill(replica.pid, signal.SIGSTOP)  # paused: connected, acknowledging nothing
        try:
            response = post(served, BUY)
        finally:
            os.kill(replica.pid, signal.SIGCONT)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["replicated"] is False
        assert [s["signal_id"] for s in served.signals()] == answer["signal_ids"]  # primary
        assert not_replicated() == before + 1
    for _ in range(200):  # the replica, back, catches up: the signal was never refused
        if replicated_signals(pair[1]) == answer["signal_ids"]:
            break
        time.sleep(0.05)
    assert replicated_signals(pair[1]) == answer["signal_ids"]


def test_a_failed_write_is_answered_503_as_without_the_wait(
    pair: tuple[RedisServer, RedisServer],
) -> None:
    with serving(pair[0].url, durability=Durability(replicas=1, timeout_ms=1000)) as served:
        served.client.set(f"{PREFIX}rtss", "not a stream")
        response = post(served, BUY)
        assert response.status_code == 503
        assert response.json()["field"] == "redis"
