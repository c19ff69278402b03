"""How many round trips to Redis a trade and a tick cost (counted on a real connection)."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from redis.connection import Connection

from brokers.sim.terminal import SimTerminal
from tests.brokers.sim.conftest import (
    EURUSD_OPEN,
    EURUSD_RISE,
    LOGIN,
    PREFIX,
    USDJPY_OPEN,
    buy,
    make_tick,
    quote,
)


class CountingConnection(Connection):
    """A plain TCP connection that counts the requests it writes (one per round trip)."""

    sent = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sent += 1
        super().send_packed_command(command, check_health)  # type: ignore[no-untyped-call]


@pytest.fixture
def counted(mt5: SimTerminal, redis_url: str) -> SimTerminal:
    pool = redis.ConnectionPool.from_url(redis_url, connection_class=CountingConnection)
    terminal = SimTerminal(redis.Redis(connection_pool=pool), PREFIX)
    assert terminal.initialize(login=LOGIN)
    return terminal


def round_trips(call: Any) -> int:
    before = CountingConnection.sent
    call()
    return CountingConnection.sent - before


def test_a_market_order_costs_two_round_trips(
    counted: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    counted.order_send(buy(counted, "EURUSD", 0.01))  # warms up the connection and the script
    assert round_trips(lambda: counted.order_send(buy(counted, "EURUSD", 0.01))) == 2


def test_positions_on_other_symbols_add_one(
    counted: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    quote(redis_client, "USDJPY", USDJPY_OPEN)
    counted.order_send(buy(counted, "USDJPY", 0.01))
    assert round_trips(lambda: counted.order_send(buy(counted, "EURUSD", 0.01))) == 3


def test_a_tick_that_crosses_nothing_costs_one(
    counted: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_RISE[0])
    counted.order_send(buy(counted, "EURUSD", 0.01, tp=1.39500))
    tick = make_tick(EURUSD_RISE[1])
    # a tick of a symbol that values a position is valued (stop-out): look and load, no commit
    assert round_trips(lambda: counted.on_tick("EURUSD", tick)) == 2
    assert round_trips(lambda: counted.on_tick("GBPUSD", tick)) == 1  # nothing there: a look
    crossing = tick._replace(bid=1.39500, ask=1.39510)
    assert round_trips(lambda: counted.on_tick("EURUSD", crossing)) == 3  # look, load, commit
