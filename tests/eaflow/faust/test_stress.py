"""faust's stress apps (tests/stress/tests: simple, forwarder, tables), as apps of our own
with the same checks, run as real workers on the Redis transport: every message arrives,
none twice, none skipped, numbers in order per partition."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import orjson
import pytest
import redis

from tests.eaflow.faust.conftest import ROOT, FaustWorker, changelog, wait_for

COUNT = 300  # numbers per partition
PARTITIONS = 4


def env(url: str) -> dict[str, str]:
    return {"FAUST_TEST_REDIS": url, "FAUST_TEST_COUNT": str(COUNT)}


def table(client: redis.Redis, topic: str) -> dict[Any, Any]:
    return {orjson.loads(k): orjson.loads(v) for k, v in changelog(client, topic).items()}


def test_simple_counts_every_withdrawal(
    redis7_url: str, redis_client: redis.Redis, workers: Callable[..., FaustWorker]
) -> None:
    worker = workers("simple", env(redis7_url))
    done = subprocess.run(
        [sys.executable, "-m", "faust", "-A", "tests.eaflow.faust.apps.simple", "produce",
         "--count", "2000"],
        env={**worker.env}, cwd=ROOT, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    changelog_topic = "stress-simple-received-changelog"
    wait_for(lambda: sum(table(redis_client, changelog_topic).values()) >= 2000, "2000 counted",
             60, worker.tail)  # fmt: skip
    assert worker.stop() == 0
    assert sum(table(redis_client, changelog_topic).values()) == 2000


@pytest.mark.parametrize(
    ("app", "changelog_topic"),
    [
        ("forwarder", "stress-forwarder-checks-changelog"),
        ("tables", "stress-tables-counted-changelog"),
    ],
)
def test_numbers_arrive_once_and_in_order(
    app: str,
    changelog_topic: str,
    redis7_url: str,
    redis_client: redis.Redis,
    workers: Callable[..., FaustWorker],
) -> None:
    worker = workers(app, env(redis7_url))

    def finished() -> bool:
        checks = table(redis_client, changelog_topic)
        return len(checks) == PARTITIONS and all(c["last"] == COUNT - 1 for c in checks.values())

    wait_for(finished, "every number", 90, worker.tail)
    assert worker.stop() == 0
    expected = {"last": COUNT - 1, "count": COUNT, "duplicates": 0, "gaps": 0}
    assert table(redis_client, changelog_topic) == dict.fromkeys(range(PARTITIONS), expected)
