"""Signals as users already write them, sent with `eaflow send` through the router and an
executor to a simulated account: the original design's trade request verbatim, strategy
tags that exits target, percent closes, take-profit ladders and pending distances with an
expiry."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson
import pytest
import redis

from brokers.mt5 import constants as mt5
from model import OrderStatus, Result
from model.tags import label_in
from tests.e2e.conftest import seed, terminal, wait_for_results, write_market
from tests.e2e.workers import Worker, eaflow

pytestmark = pytest.mark.slow

DESIGN_TRADE_REQUEST = (
    '{"order_id": "UUID", "symbol": "EURUSD", "volume": 1.0, "order_type": "BUY",'
    ' "price": 1.12345, "stop_loss": 1.12000, "take_profit": 1.12500}'
)
"""The original design's trade request model, exactly as it writes it."""
QUOTES = {"EURUSD": (1.12340, 1.12345)}


def send(redis_url: str, body: Any) -> None:
    text = body if isinstance(body, str) else orjson.dumps(body).decode()
    sent = eaflow("send", "--redis", redis_url, text)
    assert sent.returncode == 0, sent.stderr


def by_order(found: list[Result]) -> dict[str, Result]:
    return {r.order_id: r for r in found}


def test_signals_users_already_have(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker]
) -> None:
    seed(redis_url, 1)
    write_market(redis_client, QUOTES)
    workers("rtss", "orders")
    account = terminal(redis_url, 1)

    send(redis_url, DESIGN_TRADE_REQUEST)
    design = by_order(wait_for_results(redis_client, 1))["UUID"]
    assert design.status is OrderStatus.FILLED, design
    [position] = account.positions_get() or ()
    assert (position.volume, position.sl, position.tp) == (1.0, 1.12, 1.125)

    buy: dict[str, Any] = {"symbol": "EURUSD", "order_type": "Buy", "volume": 0.1}
    send(redis_url, [{**buy, "order_id": "a1", "strategy": "trend"},
                     {**buy, "order_id": "b1", "comment": "scalp one: London open"}])  # fmt: skip
    wait_for_results(redis_client, 3)
    exit_trend = {"order_id": "x1", "action": "CLOSE", "side": "Long", "symbol": "EURUSD"}
    send(redis_url, {**exit_trend, "strategy": "trend"})
    closed = by_order(wait_for_results(redis_client, 4))
    assert (closed["x1"].status, closed["x1"].strategy) == (OrderStatus.CLOSED, "trend")
    tagged = closed["b1"]  # no strategy: the comment's first 18 characters tag the order
    assert (tagged.strategy, tagged.comment) == ("scalp one: London", "scalp one: London open")
    held = sorted(str(label_in(p.comment)) for p in account.positions_get() or ())
    assert held == ["", "scalp one: London"]  # the design's untagged buy, and b1

    send(redis_url, {"order_id": "p1", "action": "close", "side": "long", "symbol": "EURUSD",
                     "strategy": "scalp one: London", "close_percent": 50})  # fmt: skip
    assert by_order(wait_for_results(redis_client, 5))["p1"].volume == Decimal("0.05")
    volumes = sorted(p.volume for p in account.positions_get() or ())
    assert volumes == [0.05, 1.0]

    send(redis_url, {"order_id": "l1", "symbol": "EURUSD", "order_type": "buy", "volume": 0.1,
                     "stops_unit": "pips", "strategy": "ladder",
                     "take_profits": [{"take_profit": 20}, {"take_profit": 40}]})  # fmt: skip
    ladder = by_order(wait_for_results(redis_client, 7))
    assert {ladder["l1.tp1"].status, ladder["l1.tp2"].status} == {OrderStatus.FILLED}
    rungs = sorted((p.tp, p.volume) for p in account.positions_get() or () if p.tp > 1.1251)
    assert rungs == [(1.12545, 0.05), (1.12745, 0.05)]

    limit = {"order_id": "e1", "symbol": "EURUSD", "order_type": "buy_limit", "volume": 0.1}
    send(redis_url, {**limit, "price": 20, "price_unit": "pips", "expiration": "2h"})
    placed = by_order(wait_for_results(redis_client, 8))["e1"]
    assert placed.status is OrderStatus.PLACED, placed
    [pending] = account.orders_get() or ()
    assert (pending.price_open, pending.type_time) == (1.12145, mt5.ORDER_TIME_SPECIFIED)
    assert abs(pending.time_expiration - (time.time() + 7200)) < 60
