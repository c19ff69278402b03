"""A simulated broker naming its symbols as real brokers do (EURUSD.m, EURUSDpro): the
names it shows and trades, each quoted by the base symbol's recorded ticks."""

from __future__ import annotations

import pytest
import redis
import redis.asyncio as aioredis

from brokers.factory import broker_for, sim_symbols
from brokers.sim.broker import SimBroker
from brokers.sim.market import SimMarket
from brokers.sim.server import SimServer
from brokers.sim.symbols import broker_symbols, default_symbols
from brokers.sim.terminal import SimTerminal
from model import TradingConfig
from processors.ticks.accounts import TickAccount
from tests.brokers.sim.conftest import (
    EURUSD_FALL,
    EURUSD_OPEN,
    LOGIN,
    PREFIX,
    USDJPY_OPEN,
    buy,
    make_tick,
    quote,
)


def test_a_suffix_renames_every_symbol_quoted_by_its_base() -> None:
    table = broker_symbols("pro")
    assert sorted(i.name for i in table) == sorted(i.name + "pro" for i in default_symbols())
    assert table.stream("EURUSDpro") == "EURUSD" and table.stream("EURUSD") == "EURUSD"
    info = table.get("USDJPYpro")
    assert info is not None and info.path.endswith("USDJPYpro")
    assert [leg.symbol for leg in table.path("JPY", "USD") or ()] == ["USDJPYpro"]
    assert broker_symbols("") is default_symbols()


def test_the_url_names_the_suffix_and_refuses_unknown_parameters() -> None:
    assert sim_symbols("sim://?suffix=.m").get("EURUSD.m") is not None
    assert sim_symbols("sim://") is default_symbols()
    with pytest.raises(ValueError, match="unknown sim:// parameter 'prefix'"):
        sim_symbols("sim://?prefix=x")
    with pytest.raises(ValueError, match="suffix 'a b' must be"):
        sim_symbols("sim://?suffix=a%20b")


def test_a_terminal_trades_the_brokers_name_at_the_base_quote(
    redis_client: redis.Redis, server: SimServer
) -> None:
    server.open_account(LOGIN, balance=10_000, currency="USD", leverage=100)
    mt5 = SimTerminal(redis_client, prefix=PREFIX, symbols=broker_symbols(".m"))
    assert mt5.initialize(login=LOGIN, server="eaflow-sim")
    tick = quote(redis_client, "EURUSD", EURUSD_OPEN)
    quote(redis_client, "USDJPY", USDJPY_OPEN)
    assert mt5.symbol_info("EURUSD") is None  # this broker has no plain EURUSD
    info = mt5.symbol_info("EURUSD.m")
    assert info is not None and (info.bid, info.ask) == (tick.bid, tick.ask)
    sent = mt5.order_send(buy(mt5, "EURUSD.m", 0.1))
    assert sent is not None and sent.retcode == mt5.TRADE_RETCODE_DONE, sent
    assert sent.price == tick.ask
    [position] = mt5.positions_get() or ()
    assert (position.symbol, position.volume) == ("EURUSD.m", 0.1)
    ticks = mt5.copy_ticks_from("EURUSD.m", 0, 10, mt5.COPY_TICKS_ALL)
    assert ticks is not None and len(ticks) == 1


async def test_held_accounts_share_one_market_under_their_own_names(
    redis_url: str, redis_client: redis.Redis, server: SimServer
) -> None:
    """Two accounts held by one executor, EURUSD and EURUSDpro: both quoted by ticks:EURUSD."""
    server.open_account(LOGIN, balance=10_000, currency="USD", leverage=100)
    server.open_account(LOGIN + 1, balance=10_000, currency="USD", leverage=100)
    tick = quote(redis_client, "EURUSD", EURUSD_OPEN)
    market = SimMarket(aioredis.Redis.from_url(redis_url), redis.Redis.from_url(redis_url), PREFIX)
    plain = broker_for("sim://", "plain", LOGIN, redis_url, PREFIX, market=market)
    pro = broker_for("sim://?suffix=pro", "pro", LOGIN + 1, redis_url, PREFIX, market=market)
    assert isinstance(plain, SimBroker) and isinstance(pro, SimBroker)
    try:
        for session in (plain, pro):
            await session.connect()
        pipe = market.redis.pipeline(transaction=True)
        plain_n = plain.prepare(pipe, {"EURUSD"}, 1)
        pro_n = pro.prepare(pipe, {"EURUSDpro"}, 1)
        replies = await pipe.execute()
        await plain.ready(replies[:plain_n])
        await pro.ready(replies[plain_n : plain_n + pro_n])
        assert market.ticks["EURUSD"] == market.ticks["EURUSDpro"] == tick
    finally:
        await plain.close()
        await pro.close()
        await market.close()


def test_the_tick_feed_reaches_a_position_under_the_brokers_name(
    redis_client: redis.Redis, server: SimServer
) -> None:
    """A EURUSD.m position's stop loss is hit by ticks:EURUSD."""
    server.open_account(LOGIN, balance=10_000, currency="USD", leverage=100)
    table = broker_symbols(".m")
    mt5 = SimTerminal(redis_client, prefix=PREFIX, symbols=table)
    assert mt5.initialize(login=LOGIN, server="eaflow-sim")
    quote(redis_client, "EURUSD", EURUSD_FALL[0])
    sent = mt5.order_send(buy(mt5, "EURUSD.m", 0.1, sl=EURUSD_FALL[4][1]))
    assert sent is not None and sent.retcode == mt5.TRADE_RETCODE_DONE, sent
    account = TickAccount("m", mt5, TradingConfig(), None, mt5.on_tick, table.streams)
    assert account.holdings().symbols == {"EURUSD"}
    results = account.apply("EURUSD", [make_tick(row) for row in EURUSD_FALL[1:6]])
    assert [r.symbol for r in results] == ["EURUSD.m"], results
    assert not mt5.positions_get()
