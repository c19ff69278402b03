"""Waiting until the pipeline fills a signal, before a test starts breaking things."""

from __future__ import annotations

import time
from typing import Any

import redis

from model import OrderStatus, Result
from tests.e2e.conftest import send_raw

PROBE = {"symbol": "EURUSD", "order_type": "buy", "volume": "0.01"}


def results_of(client: redis.Redis, order_id: str) -> list[Result]:
    """Results of one order (rtrs may also hold poison a test wrote to it)."""
    entries: Any = client.xrange("ea:rtrs")
    return [
        Result.model_validate_json(fields[b"d"])
        for _, fields in entries
        if f'"order_id":"{order_id}"'.encode() in fields.get(b"d", b"")
    ]


def warm_up(client: redis.Redis, timeout: float = 90) -> int:
    """Send `warm-N` signals until one is filled; returns how many were sent. Until its
    executor has connected and published the instance's symbols, the router refuses the
    symbol (a refusal for any other reason fails the test)."""
    deadline = time.monotonic() + timeout
    for attempt in range(1, 1000):
        order_id = f"warm-{attempt}"
        send_raw(client, {**PROBE, "order_id": order_id})
        while not (found := results_of(client, order_id)):
            assert time.monotonic() < deadline, f"{order_id} has no result"
            time.sleep(0.05)
        if found[0].status is OrderStatus.FILLED:
            return attempt
        assert found[0].field in ("symbol", "instances"), found  # symbols not known yet
        time.sleep(0.2)
    raise AssertionError("no warm-up signal was filled")
