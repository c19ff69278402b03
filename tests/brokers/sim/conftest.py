"""Simulator fixtures: a USD hedging account on the session's real Redis, and real quotes.

Quotes are rows of real recordings (OANDA EURUSD 2014-05-06 and XAUUSD 2014-05-11, in
eaflow/data/ticks; TrueFX USDJPY 2013-01-01, tests/data/SOURCES.md), copied as (time_msc,
bid, ask).
"""

from __future__ import annotations

import pytest
import redis

from brokers.mt5.records import AccountInfo
from brokers.sim.server import SimServer
from brokers.sim.terminal import SimTerminal
from model.keys import Keys
from model.tick import Tick, encode_tick

PREFIX = "ea:"
LOGIN = 7_000_001

# OANDA EURUSD 2014-05-06, 12 consecutive ticks while the price rose (rows 24682-24693)
EURUSD_RISE = [
    (1399378800808, 1.39461, 1.39473),
    (1399378800822, 1.39464, 1.39476),
    (1399378800966, 1.39467, 1.39478),
    (1399378801407, 1.39470, 1.39480),
    (1399378802209, 1.39473, 1.39483),
    (1399378802255, 1.39475, 1.39485),
    (1399378802309, 1.39475, 1.39486),
    (1399378802369, 1.39477, 1.39488),
    (1399378802443, 1.39478, 1.39490),
    (1399378802501, 1.39479, 1.39490),
    (1399378802714, 1.39481, 1.39493),
    (1399378802817, 1.39485, 1.39496),
]
# the same day, 12 consecutive ticks while it fell (rows 25631-25642)
EURUSD_FALL = [
    (1399379401496, 1.39447, 1.39481),
    (1399379401511, 1.39442, 1.39475),
    (1399379401512, 1.39438, 1.39474),
    (1399379401513, 1.39442, 1.39478),
    (1399379401516, 1.39432, 1.39476),
    (1399379401520, 1.39431, 1.39477),
    (1399379401521, 1.39435, 1.39481),
    (1399379401522, 1.39426, 1.39477),
    (1399379401523, 1.39420, 1.39476),
    (1399379401524, 1.39425, 1.39481),
    (1399379401525, 1.39418, 1.39474),
    (1399379401583, 1.39413, 1.39469),
]
EURUSD_OPEN = (1399334400158, 1.38742, 1.38755)  # first tick of the day
USDJPY_OPEN = (1357077600295, 86.655, 86.728)  # TrueFX 2013-01-01 22:00:00.295
XAUUSD_OPEN = (1399845600976, 1289.056, 1290.606)  # Sunday open, wide spread
XAUUSD_LATER = (1399847487367, 1287.848, 1288.341)  # 22:31:27 the same evening


def make_tick(row: tuple[int, float, float]) -> Tick:
    time_msc, bid, ask = row
    return Tick(time=time_msc // 1000, bid=bid, ask=ask, time_msc=time_msc, flags=6)


def quote(client: redis.Redis, symbol: str, row: tuple[int, float, float]) -> Tick:
    """Publish a tick as the feed does; it becomes the symbol's latest quote."""
    tick = make_tick(row)
    client.xadd(Keys(PREFIX).ticks(symbol), {"d": encode_tick(tick)})
    return tick


@pytest.fixture
def server(redis_client: redis.Redis) -> SimServer:
    return SimServer(redis_client, prefix=PREFIX)


@pytest.fixture
def mt5(redis_client: redis.Redis, server: SimServer) -> SimTerminal:
    """A terminal logged in to a fresh 10,000 USD, 1:100 hedging account."""
    server.open_account(LOGIN, balance=10_000, currency="USD", leverage=100)
    terminal = SimTerminal(redis_client, prefix=PREFIX)
    assert terminal.initialize(login=LOGIN, server="eaflow-sim")
    return terminal


def buy(mt5: SimTerminal, symbol: str, volume: float, **extra: object) -> dict[str, object]:
    return {
        "action": mt5.TRADE_ACTION_DEAL,
        "symbol": symbol,
        "volume": volume,
        "type": mt5.ORDER_TYPE_BUY,
        "type_filling": mt5.ORDER_FILLING_IOC if symbol == "USDJPY" else mt5.ORDER_FILLING_FOK,
        **extra,
    }


def sell(mt5: SimTerminal, symbol: str, volume: float, **extra: object) -> dict[str, object]:
    return buy(mt5, symbol, volume, type=mt5.ORDER_TYPE_SELL, **extra)


def account(mt5: SimTerminal) -> AccountInfo:
    info = mt5.account_info()
    assert info is not None, mt5.last_error()
    return info
