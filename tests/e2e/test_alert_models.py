"""Signals as users already write them, sent with `eaflow send` through the router and an
executor to a simulated account: the original design's trade request verbatim, strategy
tags that exits target, percent closes, take-profit ladders and pending distances with an
expiry; and the design's trade state model in `trades` and in DuckDB as the trade lives."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
import redis

from brokers.mt5 import constants as mt5
from model import OrderStatus, Result
from model.tags import label_in
from model.trade import TradeEvent, TradeState
from sinks.database import database_path
from tests.e2e.conftest import entries, seed, terminal, wait_for_results, write_market
from tests.e2e.workers import Worker, eaflow

pytestmark = pytest.mark.slow

DESIGN_TRADE_REQUEST = (
    '{"order_id": "UUID", "symbol": "EURUSD", "volume": 1.0, "order_type": "BUY",'
    ' "price": 1.12345, "stop_loss": 1.12000, "take_profit": 1.12500}'
)
"""The original design's trade request model, exactly as it writes it."""
DESIGN_TRADE_STATE = {"trade_id": 0, "symbol": "EURUSD", "volume": 1.0, "status": "OPEN",
                      "profit": 0.0, "entry_price": 1.12345, "stop_loss": 1.12000,
                      "take_profit": 1.12500}  # fmt: skip
"""The original design's trade state model: its fields, with the values of the trade the
design's request opens (`trade_id` and `profit` come from the position: its ticket and its
floating profit)."""
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


def wait_for_trades(client: redis.Redis, count: int, timeout: float = 60) -> list[TradeState]:
    deadline = time.monotonic() + timeout
    while True:
        found = [TradeState.model_validate_json(f[b"d"]) for _, f in entries(client, "ea:trades")]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def sinks_caught_up(client: redis.Redis) -> bool:
    """Every trades sink (DuckDB, and ClickHouse when chDB is installed) wrote and acked all."""
    found: Any = client.xinfo_groups("ea:trades")
    groups = {g["name"]: (g["pending"], g["lag"]) for g in found}
    return b"duckdb-trades" in groups and set(groups.values()) == {(0, 0)}


def test_the_design_trade_state_model_follows_a_trade(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    """Open (the design's request), move the stop loss, close half, close: four entries in
    `trades` with the design's fields, the profit of the account's deals, and in DuckDB."""
    seed(redis_url, 1)
    write_market(redis_client, QUOTES)
    env = {"EAFLOW_DATA_DIR": str(tmp_path)}
    running = [workers(t, env=env, name=t) for t in ("rtss", "orders", "rtrs")]
    account = terminal(redis_url, 1)
    long = {"side": "long", "symbol": "EURUSD"}
    deadline = time.monotonic() + 90
    while redis_client.exists("ea:symbols:demo-1", "ea:state:demo-1") != 2:
        assert time.monotonic() < deadline, "the executor never published the instance"
        time.sleep(0.1)
    time.sleep(1.0)  # the router's refresh (every 0.5 s) reads them

    send(redis_url, DESIGN_TRADE_REQUEST)
    [filled] = wait_for_results(redis_client, 1)
    assert filled.status is OrderStatus.FILLED, filled
    [opened] = wait_for_trades(redis_client, 1)
    [position] = account.positions_get() or ()
    design = opened.model_dump(include=set(DESIGN_TRADE_STATE))
    assert design == {**DESIGN_TRADE_STATE, "trade_id": position.ticket, "profit": position.profit}
    assert opened.event is TradeEvent.OPENED

    send(redis_url, {"order_id": "m1", "action": "sltp", **long, "stop_loss": "1.121",
                     "take_profit": "1.125", "stops_unit": "price"})  # fmt: skip
    modified = wait_for_trades(redis_client, 2)[-1]
    assert (modified.event, modified.stop_loss, modified.take_profit) == (
        TradeEvent.MODIFIED, 1.121, 1.125
    )  # fmt: skip

    write_market(redis_client, {"EURUSD": (1.12400, 1.12405)})
    send(redis_url, {"order_id": "p1", "action": "close", **long, "close_percent": 50})
    partial = wait_for_trades(redis_client, 3)[-1]
    assert (partial.event, partial.status, partial.volume) == (
        TradeEvent.PARTIALLY_CLOSED, "OPEN", 0.5
    )  # fmt: skip
    assert partial.realized_profit == pytest.approx(27.5)  # 0.5 lot, 5.5 pips

    write_market(redis_client, {"EURUSD": (1.12300, 1.12305)})
    send(redis_url, {"order_id": "x1", "action": "close", **long})
    found = wait_for_trades(redis_client, 4)
    closed = found[-1]
    deals = account.history_deals_get(position=position.ticket) or ()
    assert [e.event for e in found] == [TradeEvent.OPENED, TradeEvent.MODIFIED,
                                        TradeEvent.PARTIALLY_CLOSED, TradeEvent.CLOSED]  # fmt: skip
    assert (closed.status, closed.trade_id) == ("CLOSED", position.ticket)
    assert closed.closed_volume == 1.0
    assert closed.profit == pytest.approx(sum(d.profit for d in deals))
    assert closed.profit == pytest.approx(27.5 - 22.5)
    assert closed.commission == pytest.approx(sum(d.commission for d in deals))
    assert closed.swap == pytest.approx(sum(d.swap for d in deals))

    deadline = time.monotonic() + 60
    while not sinks_caught_up(redis_client):
        assert time.monotonic() < deadline, "the trades sinks never caught up"
        time.sleep(0.1)
    for worker in running:
        assert worker.stop() == 0
    with duckdb.connect(str(database_path(tmp_path)), read_only=True) as con:
        stored = con.sql("SELECT seq, event, status, profit FROM trades ORDER BY seq").fetchall()
    assert stored == [(e.seq, e.event.value, e.status.value, e.profit) for e in found]
