"""Mt5Broker: MT5's failure conventions become BrokerUnavailable, never an empty account."""

from __future__ import annotations

import pytest
import redis

from brokers.mt5.broker import Mt5Broker
from brokers.sim.server import SimServer
from brokers.sim.terminal import SimTerminal
from brokers.types import BrokerUnavailable
from tests.stubs import PREFIX, quote


async def test_initialize_failure_carries_mt5s_last_error(
    redis_client: redis.Redis, server: SimServer
) -> None:
    broker = Mt5Broker(SimTerminal(redis_client, prefix=PREFIX), name="x", login=999)
    with pytest.raises(BrokerUnavailable, match=r"initialize failed \(-6, Authorization failed\)"):
        await broker.connect()
    await broker.close()


async def test_lists_from_a_dead_terminal_raise_instead_of_looking_empty(
    broker: Mt5Broker, terminal: SimTerminal
) -> None:
    assert await broker.positions_get() == ()  # connected, nothing open: an empty tuple
    terminal.shutdown()
    for call in (broker.positions_get, broker.orders_get):
        with pytest.raises(BrokerUnavailable, match="-10004, No IPC connection"):
            await call()


async def test_symbols_are_the_full_specifications(broker: Mt5Broker) -> None:
    symbols = {s.name: s for s in await broker.symbols()}
    assert {"EURUSD", "USDJPY", "XAUUSD"} <= set(symbols)
    assert symbols["XAUUSD"].trade_contract_size == 100.0


async def test_symbol_specifications_are_reused_until_a_reconnect(
    broker: Mt5Broker, redis_client: redis.Redis
) -> None:
    first = await broker.symbol_info("EURUSD")
    quote(redis_client, "EURUSD", 1.5, 1.6)  # the terminal's record now shows this quote
    assert await broker.symbol_info("EURUSD") == first  # no terminal call: the kept spec
    tick = await broker.symbol_info_tick("EURUSD")
    assert tick is not None and (tick.bid, tick.ask) == (1.5, 1.6)  # prices are always fresh
    await broker.connect()
    again = await broker.symbol_info("EURUSD")
    assert first is not None and again is not None
    assert (again.bid, again.ask) == (1.5, 1.6) and first.bid != 1.5
    assert await broker.symbol_info("NOSUCH") is None
