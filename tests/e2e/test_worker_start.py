"""A worker started while Redis is down waits for it instead of dying (found by the chaos
suite: an executor restarted during a Redis restart exited with a ConnectionError)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis

from tests.chaos.cluster import AOF
from tests.e2e.conftest import seed, write_market
from tests.e2e.warmup import warm_up
from tests.e2e.workers import Worker
from tests.redis_server import RedisServer

pytestmark = pytest.mark.slow


def test_workers_started_before_redis_wait_for_it(tmp_path: Path) -> None:
    server = RedisServer(workdir=tmp_path / "redis", extra_args=AOF).start()
    seed(server.url, 1)
    server.kill()  # the machine rebooted: workers come up before Redis
    env = {"EAFLOW_DATA_DIR": str(tmp_path)}
    workers = [
        Worker(topics, server.url, tmp_path / f"{topics[0]}.log", env=env).start()
        for topics in (("orders",), ("rtss",), ("rtrs",))
    ]
    try:
        deadline = time.monotonic() + 60
        while "install_waiting" not in workers[0].log.read_text():
            assert time.monotonic() < deadline, "the orders worker never tried to install"
            assert all(w.alive for w in workers), [w.log.read_text()[-2000:] for w in workers]
            time.sleep(0.1)
        time.sleep(2.5)  # at least one more failed attempt
        assert all(w.alive for w in workers)
        server.start()
        client = redis.Redis.from_url(server.url)
        write_market(client)
        warm_up(client)  # a signal filled: router, executor and sinks came up with Redis
        client.close()
    finally:
        codes = [w.stop() for w in workers]
        server.stop()
    assert codes == [0, 0, 0]
    for worker in workers:
        assert all(line.startswith("{") for line in worker.log.read_text().splitlines() if line)
