"""Instances end to end: configuration changed with the CLI, operators' commands, and a
crashed instance process restarted, all through worker processes on a real Redis."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
import redis

from model import InstanceReport, InstanceStatus, OrderStatus, ReportKind, Result
from tests.e2e.conftest import entries as stream
from tests.e2e.conftest import results, seed, send_raw, write_market
from tests.e2e.workers import Worker, eaflow

pytestmark = pytest.mark.slow

APPLIED = "ea:config:applied"
STATUS = "ea:instances:status"


def wait_until(check: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} not met within {timeout}s")


def result_of(client: redis.Redis, order_id: str) -> Result:
    wait_until(
        lambda: any(r.order_id == order_id for r in results(client)),
        what=f"result of {order_id}",
    )
    return next(r for r in results(client) if r.order_id == order_id)


def buy(client: redis.Redis, order_id: str) -> Result:
    send_raw(
        client,
        {
            "order_id": order_id,
            "symbol": "EURUSD",
            "order_type": "buy",
            "volume": "0.01",
            "instances": ["demo-1"],
        },
    )
    return result_of(client, order_id)


def report(client: redis.Redis, instance: str) -> InstanceReport | None:
    raw = client.hget(STATUS, instance)
    return None if raw is None else InstanceReport.model_validate_json(raw)


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "EAFLOW_DATA_DIR": str(tmp_path),
        "EAFLOW_CONFIG_DB": str(tmp_path / "eaflow.duckdb"),
        **extra,
    }


def test_a_config_change_made_with_the_cli_applies_within_a_second(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    seed(redis_url, 1)
    write_market(redis_client)
    env = env_for(tmp_path)
    workers("rtss", "orders", env=env)
    wait_until(lambda: redis_client.hget(APPLIED, "demo-1") is not None, what="manager up")
    assert buy(redis_client, "before").status is OrderStatus.FILLED

    changed = eaflow(
        "config", "set", "-i", "demo-1", "max_open_orders=1", "--redis", redis_url, env=env
    )
    assert changed.returncode == 0, changed.stderr
    version = changed.stdout.split()[1].rstrip(":")
    time.sleep(1.0)  # the promise: within a second, without a restart
    assert redis_client.hget(APPLIED, "demo-1") == version.encode()
    refused = buy(redis_client, "after")
    assert (refused.status, refused.field) == (OrderStatus.REJECTED, "max_open_orders")

    invalid = eaflow(
        "config", "set", "-i", "demo-1", "max_open_orders=-2", "--redis", redis_url, env=env
    )
    assert invalid.returncode == 2
    assert "refused: max_open_orders: Input should be greater than or equal to 0" in invalid.stderr
    time.sleep(1.0)
    assert redis_client.hget(APPLIED, "demo-1") == version.encode()  # the old one stays
    assert buy(redis_client, "still").field == "max_open_orders"

    raised = eaflow(
        "config", "set", "-i", "demo-1", "max_open_orders=5", "--redis", redis_url, env=env
    )
    assert raised.returncode == 0, raised.stderr
    time.sleep(1.0)
    assert buy(redis_client, "again").status is OrderStatus.FILLED


def test_operators_stop_start_and_restart_instances(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    seed(redis_url, 2)
    workers("orders", env=env_for(tmp_path))
    wait_until(
        lambda: all(
            (r := report(redis_client, i)) is not None and r.status is InstanceStatus.RUNNING
            for i in ("demo-1", "demo-2")
        ),
        what="both running",
    )
    stopped = eaflow("instances", "stop", "demo-2", "--wait", "10", "--redis", redis_url)
    assert (stopped.returncode, stopped.stdout.strip()) == (0, "demo-2: done"), stopped.stderr
    listed = orjson.loads(eaflow("instances", "list", "--json", "--redis", redis_url).stdout)
    assert [(r["instance"], r["wanted"], r["status"]) for r in listed] == [
        ("demo-1", "running", "running"),
        ("demo-2", "stopped", "stopped"),
    ]
    started = eaflow("instances", "start", "demo-2", "--wait", "10", "--redis", redis_url)
    assert started.returncode == 0, started.stderr
    restarted = eaflow("instances", "restart", "demo-1", "--wait", "10", "--redis", redis_url)
    assert restarted.returncode == 0, restarted.stderr
    after = report(redis_client, "demo-1")
    assert after is not None and after.restarts == 1
    unknown = eaflow("instances", "stop", "ghost", "--redis", redis_url)
    assert unknown.returncode == 2 and "unknown instance ghost" in unknown.stderr
    shown = eaflow("status", "--redis", redis_url)
    assert "demo-1" in shown.stdout and "running" in shown.stdout


def test_a_killed_instance_process_is_back_after_three_seconds(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    seed(redis_url, 2)
    parent = workers("orders", env=env_for(tmp_path, EAFLOW_SPAWN="sim"))
    assert parent.process is not None

    def running_apart(instance: str) -> bool:
        found = report(redis_client, instance)
        assert parent.process is not None
        return (
            found is not None
            and found.status is InstanceStatus.RUNNING
            and found.pid != parent.process.pid
        )

    wait_until(
        lambda: running_apart("demo-1") and running_apart("demo-2"),
        what="both instances in their own processes",
    )
    first = report(redis_client, "demo-1")
    other = report(redis_client, "demo-2")
    assert first is not None and other is not None
    os.kill(first.pid, signal.SIGKILL)
    wait_until(
        lambda: (
            running_apart("demo-1")
            and getattr(report(redis_client, "demo-1"), "pid", None) != first.pid
        ),
        what="demo-1 back in a new process",
    )
    entries = [
        InstanceReport.model_validate_json(f[b"d"]) for _, f in stream(redis_client, "ea:ris")
    ]
    crash = next(r for r in entries if r.instance == "demo-1" and r.kind is ReportKind.CRASHED)
    assert crash.error == "process exited with signal SIGKILL" and crash.restarts == 1
    back = next(
        r
        for r in entries
        if r.instance == "demo-1"
        and r.ts > crash.ts
        and r.kind is ReportKind.STATUS
        and r.status is InstanceStatus.STARTING
    )
    assert back.ts - crash.ts >= 3.0 - 0.6  # restarted after the 3 s delay (one cycle slack)
    again = report(redis_client, "demo-2")
    assert again is not None and again.pid == other.pid  # the other instance was untouched
