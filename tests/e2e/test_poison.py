"""Poison written straight into every worker's stream with redis-cli: dead-lettered with the
field and rule, never fatal, and the good entries behind it still flow."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
import redis

from model import OrderStatus
from sinks.database import database_path
from tests.e2e.conftest import seed as seed_demo
from tests.e2e.conftest import send_raw, write_market
from tests.e2e.warmup import results_of, warm_up
from tests.e2e.workers import Worker
from tests.tools import need

pytestmark = pytest.mark.slow

GOOD = {"order_id": "good", "symbol": "EURUSD", "order_type": "buy", "volume": "0.01"}
RESULT = {"order_id": "p", "signal_id": "p", "instance": "demo-1", "status": "filled"}
POISON: list[tuple[str, list[str], str]] = [
    # stream, fields after the id, what the dead letter's error must say
    ("rtss", ["d", "{not json"], "d: is not valid JSON"),
    ("rtss", ["wrong", "field"], "d: field is missing"),
    ("orders:demo-1", ["d", '{"order_id": 7}'], "order_id: Input should be a valid string"),
    ("orders:demo-1", ["d", "[]"], "d: Input should be an object"),
    ("rtrs", ["d", "{'single': 'quotes'}"], "d: Invalid JSON"),
    (
        "rtrs",
        ["d", orjson.dumps({**RESULT, "result_id": "p@1", "retcode": 2**40}).decode()],
        "retcode: Input should be less than 2147483648",
    ),
    (
        "rtrs",
        ["d", orjson.dumps({**RESULT, "result_id": "p@2", "order_ticket": -5}).decode()],
        "order_ticket: Input should be greater than or equal to 0",
    ),
    ("ticks:EURUSD", ["d", "garbage"], "d: is not valid JSON"),
]


def groups_ready(client: redis.Redis) -> bool:
    wanted = {"ea:rtss": b"router", "ea:orders:demo-1": b"executor", "ea:rtrs": b"duckdb"}
    wanted["ea:ticks:EURUSD"] = b"ticks"
    for key, group in wanted.items():
        if not client.exists(key) or group not in {g["name"] for g in client.xinfo_groups(key)}:
            return False
    return True


def test_poison_in_every_stream_is_dead_lettered_and_the_workers_go_on(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    seed_demo(redis_url, 1)
    write_market(redis_client)
    env = {"EAFLOW_DATA_DIR": str(tmp_path)}
    running = [workers(t, env=env, name=t) for t in ("rtss", "orders", "rtrs", "ticks")]
    deadline = time.monotonic() + 90
    while not groups_ready(redis_client):
        assert time.monotonic() < deadline, "the workers never created their groups"
        assert all(w.alive for w in running)
        time.sleep(0.1)
    warm_up(redis_client)
    port = str(redis_client.connection_pool.connection_kwargs["port"])
    for stream, fields, _ in POISON:
        cli = [need("redis-cli"), "-p", port, "XADD", f"ea:{stream}", "*", *fields]
        subprocess.run(cli, capture_output=True, check=True)

    send_raw(redis_client, GOOD)
    while not (found := results_of(redis_client, "good")):
        assert time.monotonic() < deadline + 60, "the good signal has no result"
        time.sleep(0.1)
    assert [r.status for r in found] == [OrderStatus.FILLED], found
    sinks = len(redis_client.xinfo_groups("ea:rtrs"))  # each sink group dead-letters its own
    expected: dict[str, list[str]] = {}
    for stream, _, error in POISON:
        expected.setdefault(stream, []).extend([error] * (sinks if stream == "rtrs" else 1))
    while True:
        letters: dict[str, Any] = {s: redis_client.xrange(f"ea:dlq:{s}") for s in expected}
        if all(len(letters[s]) == len(e) for s, e in expected.items()):
            break
        assert time.monotonic() < deadline + 60, {s: len(v) for s, v in letters.items()}
        time.sleep(0.1)
    for stream, errors in expected.items():
        reasons = sorted(fields[b"error"].decode() for _, fields in letters[stream])
        for error, got in zip(sorted(errors), reasons, strict=True):
            assert got.startswith(error), (stream, got)
        assert {fields[b"deliveries"] for _, fields in letters[stream]} == {b"1"}
    assert all(w.alive for w in running)
    for worker in running:
        assert worker.stop() == 0
    with duckdb.connect(str(database_path(tmp_path)), read_only=True) as con:
        stored = con.execute("SELECT order_id, status FROM results").fetchall()
    assert ("good", "filled") in stored and ("p", "filled") not in stored
