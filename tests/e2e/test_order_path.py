"""The order path end to end: signals → router → executors → results, in worker processes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson
import pytest
import redis

from brokers.mt5 import constants as mt5
from model import OrderStatus
from tests.e2e.conftest import (
    positions,
    results,
    seed,
    send_raw,
    wait_for_results,
    write_market,
)
from tests.e2e.workers import Worker, eaflow

pytestmark = pytest.mark.slow


def test_thousand_signals_over_ten_instances_end_in_exactly_a_thousand_results(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker]
) -> None:
    instances = seed(redis_url, 10)
    write_market(redis_client)
    workers("rtss", "orders")
    signals: list[dict[str, Any]] = [
        {
            "order_id": f"o-{n}",
            "symbol": "EURUSD",
            "order_type": "buy" if n % 2 else "sell",
            "volume": "0.01" if n % 3 else "0.02",
            "instances": [instances[n % 10]],
        }
        for n in range(1000)
    ]
    sent = eaflow("send", "-", "--redis", redis_url, input=orjson.dumps(signals).decode())
    assert sent.returncode == 0, sent.stderr
    found = wait_for_results(redis_client, 1000, timeout=120)
    assert len(found) == 1000
    assert Counter(r.status for r in found) == {OrderStatus.FILLED: 1000}
    assert {r.order_id for r in found} == {f"o-{n}" for n in range(1000)}
    for number, instance in enumerate(instances, start=1):
        mine = [s for n, s in enumerate(signals) if n % 10 == number - 1]
        held = positions(redis_url, number)
        assert len(held) == len(mine) == 100, instance
        buys = sum(1 for p in held if p.type == mt5.POSITION_TYPE_BUY)
        assert buys == sum(1 for s in mine if s["order_type"] == "buy")
        lots = sum(Decimal(str(s["volume"])) for s in mine)
        assert round(sum(p.volume for p in held), 2) == float(lots)
        fills = {r.order_id: r for r in found if r.instance == instance}
        assert {p.ticket for p in held} == {r.position_ticket for r in fills.values()}


def test_a_broadcast_signal_ends_in_one_result_per_instance(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker]
) -> None:
    instances = seed(redis_url, 4)
    write_market(redis_client)
    workers("rtss", "orders")
    sent = eaflow(
        "send",
        "--redis",
        redis_url,
        "--wait",
        "10",
        '{"order_id": "all-1", "symbol": "XAUUSD", "order_type": "sell", "volume": 0.05}',
    )
    assert sent.returncode == 0, sent.stderr
    found = wait_for_results(redis_client, 4)
    assert sorted(r.instance for r in found) == sorted(instances)
    assert {r.status for r in found} == {OrderStatus.FILLED}
    assert {float(r.price or 0) for r in found} == {1289.056}  # a sell fills at the bid
    assert '"status":"filled"' in sent.stdout.replace(" ", "")


BAD_SIGNALS: list[tuple[dict[str, Any], str]] = [
    ({"order_id": "b1", "symbol": "EURUSD", "order_type": "buy", "volume": 0.015}, "volume"),
    ({"order_id": "b2", "symbol": "EURUSD", "order_type": "buy", "volume": -1}, "volume"),
    ({"order_id": "b3", "symbol": "EURUSD", "order_type": "fly", "volume": 1}, "order_type"),
    ({"order_id": "b4", "symbol": "GBPJPY", "order_type": "buy", "volume": 1}, "instances"),
    (
        {
            "order_id": "b5",
            "symbol": "EURUSD",
            "order_type": "buy_limit",
            "volume": 1,
            "price": 1.5,
        },
        "price",
    ),
    (
        {"order_id": "b6", "symbol": "EURUSD", "order_type": "buy", "volume": 1, "stop_loss": 1.40},
        "stop_loss",
    ),
    (
        {
            "order_id": "b7",
            "symbol": "EURUSD",
            "order_type": "sell",
            "volume": 1,
            "take_profit": 1.40,
        },
        "take_profit",
    ),
    (
        {
            "order_id": "b8",
            "symbol": "EURUSD",
            "order_type": "buy",
            "volume": 1,
            "instances": ["nobody"],
        },
        "instances",
    ),
    ({"order_id": "b9", "order_type": "buy", "volume": 1}, "symbol"),
    ({"order_id": "b10", "symbol": "EURUSD", "order_type": "buy", "volume": 1, "lots": 3}, "lots"),
    ({"order_id": "b11", "symbol": "EURUSD", "order_type": "buy", "volume": 501}, "volume"),
    ({"order_id": "b12", "symbol": "EURUSD", "order_type": "buy", "volume": 400}, "margin"),
    ({"order_id": "b13", "action": "close", "symbol": "EURUSD"}, "ticket"),
]


def test_each_kind_of_bad_signal_gets_a_rejected_result_naming_the_field(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker]
) -> None:
    seed(redis_url, 1)
    write_market(redis_client)
    workers("rtss", "orders")
    for body, _ in BAD_SIGNALS:
        send_raw(redis_client, body)
    found = {r.order_id: r for r in wait_for_results(redis_client, len(BAD_SIGNALS))}
    for body, field in BAD_SIGNALS:
        result = found[str(body["order_id"])]
        assert result.status is OrderStatus.REJECTED, (body, result)
        if field == "margin":  # refused by the broker itself: MT5's retcode, named
            assert (result.retcode, result.retcode_name) == (10019, "TRADE_RETCODE_NO_MONEY")
        else:
            assert result.field == field, (body, result)
            assert result.error and result.error.startswith(f"{field}: "), result.error
    assert positions(redis_url, 1) == ()


def test_cli_send_refuses_invalid_json_before_publishing(
    redis_url: str, redis_client: redis.Redis
) -> None:
    bad = eaflow(
        "send", "--redis", redis_url, '{"symbol": "EURUSD", "order_type": "buy", "volume": 0}'
    )
    assert bad.returncode == 2 and "volume" in bad.stderr
    assert eaflow("send", "--redis", redis_url, "{not json").returncode == 2
    assert redis_client.exists("ea:rtss") == 0
    assert results(redis_client) == []
