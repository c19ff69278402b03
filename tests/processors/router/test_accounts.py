"""The router's prices of a signal's symbol under each broker's name: its own stream first,
else the signal's (the feed names symbols as signals do)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from brokers.sim.symbols import broker_symbols
from model.tick import encode_tick
from processors.router.accounts import Accounts
from processors.router.prices import LatestTicks
from tests.processors.router.test_prices import KEY, moved
from tests.stubs import EURUSD_TICK


@pytest.fixture
async def aredis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_a_brokers_name_without_a_stream_is_priced_by_the_signals_symbol(
    aredis: aioredis.Redis,
) -> None:
    accounts = Accounts(LatestTicks(aredis, KEY))
    symbols = {
        "plain": {i.name: i for i in broker_symbols()},
        "m": {i.name: i for i in broker_symbols(".m")},
        "gold": {i.name: i for i in broker_symbols()},
    }
    await aredis.xadd(KEY("EURUSD"), {"d": encode_tick(EURUSD_TICK)})
    names = {"plain": "EURUSD", "m": "EURUSD.m"}
    ticks = await accounts.ticks(names, symbols, "EURUSD")
    assert ticks == {"EURUSD": EURUSD_TICK, "EURUSD.m": EURUSD_TICK}

    own = moved(EURUSD_TICK, 1.5)  # a name with its own stream keeps its own quote
    await aredis.xadd(KEY("XAUUSD"), {"d": encode_tick(own)})
    ticks = await accounts.ticks({"gold": "XAUUSD"}, symbols, "GOLD")
    assert ticks == {"XAUUSD": own}
