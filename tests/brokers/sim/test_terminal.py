"""SimTerminal as a MetaTrader5 module: connection, constants, symbols, quotes, listings."""

from __future__ import annotations

from pathlib import Path

import redis

from brokers.mt5 import constants
from brokers.mt5.api import MT5Api
from brokers.sim.server import SimServer
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
    sell,
)
from tests.redis_server import RedisServer


def test_it_is_an_mt5_api(redis_client: redis.Redis) -> None:
    api: MT5Api = SimTerminal(redis_client, PREFIX)
    assert api.last_error() == (1, "Success")


def test_every_constant_is_an_attribute(redis_client: redis.Redis) -> None:
    mt5 = SimTerminal(redis_client, PREFIX)
    names = [n for n in vars(constants) if n.isupper()]
    assert len(names) > 200
    assert all(getattr(mt5, n) == getattr(constants, n) for n in names)
    assert (mt5.TRADE_ACTION_DEAL, mt5.ORDER_FILLING_RETURN, mt5.TRADE_RETCODE_DONE) == (
        1,
        2,
        10009,
    )


def test_initialize_needs_an_opened_account(server: SimServer, redis_client: redis.Redis) -> None:
    mt5 = SimTerminal(redis_client, PREFIX)
    assert mt5.initialize(login=LOGIN) is False
    assert mt5.last_error() == (-6, "Authorization failed")
    server.open_account(LOGIN)
    assert mt5.initialize(login=LOGIN, server="some-broker-live") is False
    assert mt5.initialize() is False and mt5.last_error()[0] == -6  # never logged in
    assert mt5.initialize(login=LOGIN, server="eaflow-sim") is True
    assert mt5.version() == (500, 5000, "15 Jan 2026")
    assert mt5.login(LOGIN + 1) is False
    assert mt5.account_info() is None  # a failed login leaves no session


def test_terminal_info_shows_the_connection(mt5: SimTerminal, server: SimServer) -> None:
    info = mt5.terminal_info()
    assert info is not None and info.connected and info.trade_allowed
    server.set_connected(LOGIN, False)
    info = mt5.terminal_info()
    assert info is not None and info.connected is False


def test_symbol_info_carries_the_latest_quote_and_tick_value(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    before = mt5.symbol_info("EURUSD")
    assert before is not None and before.bid == 0.0
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    quote(redis_client, "USDJPY", USDJPY_OPEN)
    eurusd = mt5.symbol_info("EURUSD")
    assert eurusd is not None
    assert (eurusd.bid, eurusd.ask, eurusd.spread, eurusd.trade_tick_value) == (
        1.38742,
        1.38755,
        13,
        1.0,
    )
    usdjpy = mt5.symbol_info("USDJPY")
    assert usdjpy is not None
    # 0.001 JPY x 100,000 = 100 JPY = 100 / 86.728 USD as a gain, 100 / 86.655 as a loss
    assert round(usdjpy.trade_tick_value_profit, 6) == round(100 / 86.728, 6)
    assert round(usdjpy.trade_tick_value_loss, 6) == round(100 / 86.655, 6)


def test_unknown_symbols(mt5: SimTerminal) -> None:
    assert mt5.symbol_info("BTCUSD") is None
    assert mt5.last_error() == (-4, "Terminal: symbol 'BTCUSD' not found")
    assert mt5.symbol_info_tick("BTCUSD") is None
    assert mt5.symbol_select("BTCUSD") is False
    assert mt5.symbol_select("EURUSD") is True
    assert mt5.order_calc_margin(mt5.ORDER_TYPE_BUY, "BTCUSD", 1.0, 1.0) is None


def test_symbols_get_by_group(mt5: SimTerminal) -> None:
    names = [s.name for s in mt5.symbols_get(group="*USD*,!XAU*") or ()]
    assert names == ["EURUSD", "GBPUSD", "USDJPY", "NZDUSD"]
    assert len(mt5.symbols_get() or ()) == 7


def test_symbol_info_tick_and_copy_ticks_from(mt5: SimTerminal, redis_client: redis.Redis) -> None:
    assert mt5.symbol_info_tick("EURUSD") is None
    for row in EURUSD_RISE:
        quote(redis_client, "EURUSD", row)
    tick = mt5.symbol_info_tick("EURUSD")
    assert tick is not None and (tick.time_msc, tick.bid) == (1399378802817, 1.39485)
    ticks = mt5.copy_ticks_from("EURUSD", 1399378802, 3, mt5.COPY_TICKS_ALL)
    assert ticks is not None
    assert ticks["time_msc"].tolist() == [1399378802209, 1399378802255, 1399378802309]
    assert ticks["bid"].tolist() == [1.39473, 1.39475, 1.39475]
    trades = mt5.copy_ticks_from("EURUSD", 0, 100, mt5.COPY_TICKS_TRADE)
    assert trades is not None and len(trades) == 0  # quotes only, no last prices


def test_listings_filter_by_symbol_group_and_ticket(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    quote(redis_client, "USDJPY", USDJPY_OPEN)
    euro = mt5.order_send(buy(mt5, "EURUSD", 0.1))
    yen = mt5.order_send(sell(mt5, "USDJPY", 0.1))
    assert euro is not None and yen is not None
    assert [p.ticket for p in mt5.positions_get() or ()] == [euro.order, yen.order]
    assert [p.ticket for p in mt5.positions_get(symbol="USDJPY") or ()] == [yen.order]
    assert [p.ticket for p in mt5.positions_get(group="*JPY*") or ()] == [yen.order]
    assert [p.ticket for p in mt5.positions_get(ticket=euro.order) or ()] == [euro.order]
    assert mt5.positions_get(ticket=1) == ()
    assert mt5.positions_total() == 2
    assert mt5.orders_get(symbol="EURUSD") == () and mt5.orders_total() == 0


def test_lost_storage_answers_like_a_lost_terminal(tmp_path: Path) -> None:
    own = RedisServer(workdir=tmp_path).start()
    client = redis.Redis.from_url(own.url)
    SimServer(client, PREFIX).open_account(LOGIN)
    mt5 = SimTerminal(client, PREFIX)
    assert mt5.initialize(login=LOGIN)
    own.kill()
    assert mt5.order_send(buy(mt5, "EURUSD", 0.1)) is None
    code, text = mt5.last_error()
    assert code == -10005 and text.startswith("simulator storage:")
    assert mt5.positions_get() is None
    assert mt5.on_tick("EURUSD", make_tick(EURUSD_OPEN)) == []
    assert mt5.login(LOGIN) is False and mt5.last_error()[0] == -10003
    client.close()
