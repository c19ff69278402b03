"""AccountLimits: snapshots clear opens far from every limit; anything near one asks the broker."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
import redis.asyncio as aioredis

from brokers.mt5 import constants as mt5
from brokers.mt5.broker import Mt5Broker
from model import AccountState, OrderStatus, TradingConfig
from model.topics import Topics
from processors.executor.execute import execute
from processors.executor.limits import AccountLimits
from tests.stubs import INSTANCE, make_order

BUY: dict[str, Any] = {"symbol": "EURUSD", "order_type": "buy", "volume": "0.01"}


def position(symbol: str = "EURUSD", kind: int = mt5.POSITION_TYPE_BUY) -> dict[str, Any]:
    return {
        "ticket": 1, "symbol": symbol, "type": kind, "volume": 0.01, "price_open": 1.1,
        "sl": 0.0, "tp": 0.0, "price_current": 1.1, "profit": 0.0, "magic": 1, "comment": "",
    }  # fmt: skip


def state(**fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "instance": INSTANCE, "login": 1, "currency": "USD", "balance": 10_000.0,
        "equity": 10_000.0, "margin": 0.0, "margin_free": 10_000.0, "margin_level": 0.0,
        "profit": 0.0, "positions": [], "orders": [], "ts": time.time(),
    }  # fmt: skip
    return {**values, **fields}


async def limits_with(aredis: aioredis.Redis, topics: Topics, **fields: Any) -> AccountLimits:
    await aredis.set(topics.keys.state(INSTANCE), AccountState(**state(**fields)).model_dump_json())
    limits = AccountLimits(aredis, topics)
    await limits.refresh([INSTANCE])
    return limits


async def test_an_open_far_from_every_limit_is_cleared(
    aredis: aioredis.Redis, topics: Topics
) -> None:
    limits = await limits_with(aredis, topics, positions=[position()] * 3)
    assert limits.clears(make_order(**BUY), TradingConfig(max_open_orders=10))


async def test_no_stale_or_broken_snapshot_clears_anything(
    aredis: aioredis.Redis, topics: Topics
) -> None:
    order, config = make_order(**BUY), TradingConfig()
    empty = AccountLimits(aredis, topics)
    await empty.refresh([INSTANCE])
    assert not empty.clears(order, config)  # no state written yet
    stale = await limits_with(aredis, topics, ts=time.time() - 5)
    assert not stale.clears(order, config)
    failed = await limits_with(aredis, topics, last_error="terminal unreachable")
    assert not failed.clears(order, config)
    await aredis.set(topics.keys.state(INSTANCE), b"{not json")
    await failed.refresh([INSTANCE])
    assert INSTANCE not in failed.snapshots


@pytest.mark.parametrize(
    ("fields", "config"),
    [
        ({"positions": [position()] * 7}, TradingConfig(max_open_orders=9)),
        ({"positions": [position()] * 2}, TradingConfig(pyramiding=4)),
        ({"equity": 5_400.0}, TradingConfig(max_drawdown=Decimal(50))),  # floor 5,000 + 5 %
    ],
    ids=["max_open_orders", "pyramiding", "max_drawdown"],
)
async def test_an_open_near_a_limit_asks_the_broker(
    aredis: aioredis.Redis, topics: Topics, fields: dict[str, Any], config: TradingConfig
) -> None:
    limits = await limits_with(aredis, topics, **fields)
    assert not limits.clears(make_order(**BUY), config)


async def test_opens_sent_since_the_snapshot_count_until_a_snapshot_shows_them(
    aredis: aioredis.Redis, topics: Topics
) -> None:
    limits = await limits_with(aredis, topics, positions=[position()] * 5)
    config = TradingConfig(max_open_orders=10)
    for _ in range(2):
        limits.opened(make_order(**BUY))
    assert limits.clears(make_order(**BUY), config)  # 5 + 2 opens + margin 2 < 10
    limits.opened(make_order(**BUY))
    assert not limits.clears(make_order(**BUY), config)
    old = time.time() - 10
    later = await limits_with(aredis, topics, positions=[position()] * 5)
    later.opened(make_order(**BUY), at=old)  # long before the snapshot: already in it
    assert later.clears(make_order(**BUY), config)


async def test_pyramiding_counts_one_symbol_and_direction(
    aredis: aioredis.Redis, topics: Topics
) -> None:
    held = [position("EURUSD", mt5.POSITION_TYPE_SELL)] * 3 + [position("USDJPY")] * 3
    limits = await limits_with(aredis, topics, positions=held)
    config = TradingConfig(pyramiding=3)
    assert limits.clears(make_order(**BUY), config)  # no EURUSD buy held
    limits.opened(make_order(**BUY))
    assert not limits.clears(make_order(**BUY), config)  # 1 + margin 2 reaches 3
    sell: dict[str, Any] = {**BUY, "order_type": "sell"}
    assert not limits.clears(make_order(**sell), config)


async def test_an_unseen_position_within_the_margin_never_passes_the_limit(
    aredis: aioredis.Redis, topics: Topics, broker: Mt5Broker
) -> None:
    """The snapshot shows an empty account while the broker already holds a position opened
    elsewhere: opens are cleared from memory until the margin is reached, then the broker's
    own count stops the open that would pass the limit of 4."""
    config = TradingConfig(max_open_orders=4)
    limits = await limits_with(aredis, topics)
    _, outside = await broker.run(
        lambda terminal: execute(make_order(**BUY), terminal, config, _nothing, False)
    )
    assert outside.status is OrderStatus.FILLED

    async def opens() -> tuple[OrderStatus, str | None]:
        order = make_order(**BUY)

        def mark_sent() -> None:
            limits.opened(order)

        _, outcome = await broker.run(
            lambda terminal: execute(order, terminal, config, mark_sent, False, limits=limits)
        )
        return outcome.status, outcome.field

    filled, refused = (OrderStatus.FILLED, None), (OrderStatus.REJECTED, "max_open_orders")
    assert [await opens() for _ in range(4)] == [filled] * 3 + [refused]
    assert len(await broker.positions_get()) == 4


def _nothing() -> None:
    return None
