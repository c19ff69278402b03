"""Faust workers on the Redis transport as real processes (tests/eaflow/faust/apps/ledger.py):
tables recovered exactly after SIGKILL, and two or three workers joining and leaving
while messages flow, every message processed (at least once; exactly once when workers
leave cleanly: table totals exact after every rebalance)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import orjson
import pytest
import redis

from tests.eaflow.faust.conftest import ROOT, FaustWorker, changelog, wait_for

KEYS = 16
pytestmark = pytest.mark.slow


def env(url: str, worker: str, **extra: str) -> dict[str, str]:
    return {
        "FAUST_TEST_REDIS": url,
        "FAUST_TEST_WORKER": worker,
        "FAUST_TEST_SESSION": "5",
        **extra,
    }


def produce(url: str, count: int, pause_every: int = 0) -> subprocess.Popen[bytes]:
    """faust's `produce` command of the ledger app, as a process of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "faust", "-A", "tests.eaflow.faust.apps.ledger", "produce",
         "--count", str(count), "--keys", str(KEYS), "--pause-every", str(pause_every)],
        env=env(url, "producer"), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def sent(process: subprocess.Popen[bytes]) -> None:
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode(errors="replace")[-3000:]


def table(client: redis.Redis, name: str) -> dict[str, int]:
    """A ledger table as its changelog holds it (keys and values are JSON)."""
    return {
        orjson.loads(k): orjson.loads(v)
        for k, v in changelog(client, f"ledger-{name}-changelog").items()
    }


def processed(client: redis.Redis, at_least: int) -> Callable[[], bool]:
    return lambda: sum(table(client, "total").values()) >= at_least


def last_numbers(count: int) -> dict[str, int]:
    """The highest number of each key once `count` messages are sent."""
    return {f"k{i % KEYS}": i // KEYS for i in range(count)}


def committed_everything(client: redis.Redis) -> bool:
    """Every partition of the input committed up to its end."""
    offsets = client.hgetall("faust:g:ledger:offsets")
    for partition in range(4):
        info: Any = client.xinfo_stream(f"faust:t:ledger-in:{partition}")
        end = int(info["last-generated-id"].split(b"-")[1])
        if int(offsets.get(f"ledger-in:{partition}".encode(), -1)) != end:
            return False
    return True


def test_a_table_is_recovered_exactly_after_sigkill_and_no_message_is_lost(
    redis7_url: str, redis_client: redis.Redis, workers: Callable[..., FaustWorker]
) -> None:
    count = 8000
    first = workers("ledger", env(redis7_url, "a"), "a")
    producer = produce(redis7_url, count, pause_every=50)  # about 8 s of messages
    wait_for(processed(redis_client, count // 4), "a quarter processed", 90, first.tail)
    first.kill()
    sent(producer)
    at_kill = {name: table(redis_client, name) for name in ("total", "last", "gaps")}
    assert sum(at_kill["total"].values()) < count, "killed after the end: nothing to recover"

    paused = workers("ledger", env(redis7_url, "b", FAUST_TEST_PAUSED="1"), "b")
    wait_for(lambda: redis_client.exists("test:snapshot") == 1, "recovery of the paused worker",
             60, paused.tail)  # fmt: skip
    recovered = orjson.loads(redis_client.get("test:snapshot") or b"{}")
    assert recovered == at_kill  # every table exactly as its changelog held it at the kill
    assert paused.stop() == 0

    last = workers("ledger", env(redis7_url, "c"), "c")
    wait_for(lambda: table(redis_client, "last") == last_numbers(count), "every message", 90,
             last.tail)  # fmt: skip
    assert table(redis_client, "gaps") == {}  # no message was skipped
    totals = table(redis_client, "total")
    assert all(totals[key] >= count // KEYS for key in last_numbers(count))  # at least once
    assert last.stop() == 0


@pytest.mark.parametrize("size", [2, 3])
def test_workers_join_and_leave_while_messages_flow_and_totals_stay_exact(
    size: int, redis7_url: str, redis_client: redis.Redis, workers: Callable[..., FaustWorker]
) -> None:
    count = 6000
    group = [workers("ledger", env(redis7_url, "w0"), "w0")]
    producer = produce(redis7_url, count, pause_every=50)  # about 6 s of messages
    for n in range(1, size):  # join one by one while it sends
        wait_for(processed(redis_client, n * count // (size + 1)), f"{n}/{size + 1} processed",
                 90, group[-1].tail)  # fmt: skip
        group.append(workers("ledger", env(redis7_url, f"w{n}"), f"w{n}"))
    wait_for(lambda: sum(table(redis_client, "total").values()) >= count * size // (size + 1),
             "most processed", 120, group[-1].tail)  # fmt: skip
    for leaving in group[:-1]:  # all but the last leave, cleanly
        assert leaving.stop() == 0, leaving.tail()
    sent(producer)
    survivor = group[-1]
    wait_for(lambda: table(redis_client, "last") == last_numbers(count), "every message", 120,
             survivor.tail)  # fmt: skip
    wait_for(lambda: committed_everything(redis_client), "offsets committed", 30, survivor.tail)
    assert table(redis_client, "gaps") == {}
    assert table(redis_client, "total") == {key: count // KEYS for key in last_numbers(count)}
    generations = int(redis_client.get("faust:g:ledger:epoch") or 0)
    assert generations >= 2 * size - 1  # a rebalance per join and per leave at least
    assert survivor.stop() == 0
