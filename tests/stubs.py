"""Shared stubs of the tests: the contract instance (prefix, login, magic), real quotes, orders
as the router writes them, and the simulated terminal's fixtures (imported by the conftest
of each folder that uses them).

The quotes are real first ticks of the recorded files (tests/data/SOURCES.md): OANDA EURUSD
2014-05-06 00:00:00.158, TrueFX USDJPY 2013-01-01 22:00:00.295, OANDA XAUUSD 2014-05-11
22:00:00.976 (the Sunday open), re-timed to now so they are the live market.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from itertools import count
from typing import Any

import pytest
import redis

from brokers.mt5.broker import Mt5Broker
from brokers.sim.server import SimServer
from brokers.sim.terminal import SimTerminal
from model import Action, Order, OrderLifecycle, TradingConfig
from model.keys import Keys
from model.tick import Tick, encode_tick
from processors.executor.execute import execute
from processors.executor.outcome import Outcome

PREFIX = "ea:"
LOGIN = 8_100_001
MAGIC = 810_001
INSTANCE = "contract-1"
QUOTES = {"EURUSD": (1.38742, 1.38755), "USDJPY": (86.655, 86.728), "XAUUSD": (1289.056, 1290.606)}
_ids = count(1)


def quote(client: redis.Redis, symbol: str, bid: float, ask: float) -> Tick:
    """Publish a tick as the feed does: it becomes the symbol's latest price."""
    now_ms = int(time.time() * 1000)
    tick = Tick(
        time=now_ms // 1000,
        bid=bid,
        ask=ask,
        last=0.0,
        volume=0,
        time_msc=now_ms,
        flags=6,
        volume_real=0.0,
    )
    client.xadd(Keys(PREFIX).ticks(symbol), {"d": encode_tick(tick)})
    return tick


@pytest.fixture
def server(redis_client: redis.Redis) -> SimServer:
    sim = SimServer(redis_client, prefix=PREFIX)
    sim.open_account(LOGIN, balance=10_000, currency="USD", leverage=100, name=INSTANCE)
    for symbol, (bid, ask) in QUOTES.items():
        quote(redis_client, symbol, bid, ask)
    return sim


@pytest.fixture
def terminal(redis_client: redis.Redis, server: SimServer) -> SimTerminal:
    """What `import MetaTrader5 as mt5; mt5.initialize(...)` gives on a terminal."""
    mt5 = SimTerminal(redis_client, prefix=PREFIX)
    assert mt5.initialize(login=LOGIN, server="eaflow-sim")
    return mt5


@pytest.fixture
async def broker(terminal: SimTerminal) -> AsyncIterator[Mt5Broker]:
    session = Mt5Broker(terminal, name=INSTANCE, login=LOGIN, server="eaflow-sim")
    await session.connect()
    yield session
    await session.close()


def make_order(action: Action = Action.OPEN, **fields: Any) -> Order:
    """An order as the router writes it, for the contract instance."""
    now = time.time()
    n = next(_ids)
    values: dict[str, object] = {
        "order_id": f"c-{n}",
        "signal_id": f"s-{n}",
        "instance": INSTANCE,
        "action": action,
        "magic": MAGIC,
        "deviation": 10,
        "received_at": now,
        "routed_at": now,
    }
    return Order.model_validate({**values, **fields})  # "0.10" becomes Decimal("0.10")


async def run(
    order: Order, broker: Mt5Broker, config: TradingConfig | None = None
) -> tuple[OrderLifecycle, Outcome, int]:
    """The executor's own `execute` on the broker's thread: check, mark sent, send; returns
    how often it marked."""
    marked = 0

    def mark_sent() -> None:
        nonlocal marked
        marked += 1

    life, outcome = await broker.run(
        lambda terminal: execute(order, terminal, config or TradingConfig(), mark_sent, False)
    )
    return life, outcome, marked


# EURUSD, 2014-05-06 00:00:00.158 UTC (Lean/OANDA recording)
EURUSD_TICK = Tick(
    time=1399334400,
    bid=1.38742,
    ask=1.38755,
    last=0.0,
    volume=0,
    time_msc=1399334400158,
    flags=6,
    volume_real=0.0,
)
# XAUUSD, 2014-05-11 22:00:00.976 UTC, the Sunday open's wide spread
XAUUSD_TICK = Tick(
    time=1399845600,
    bid=1289.056,
    ask=1290.606,
    last=0.0,
    volume=0,
    time_msc=1399845600976,
    flags=6,
    volume_real=0.0,
)
