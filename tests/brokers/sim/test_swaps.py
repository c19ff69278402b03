"""A week of swaps, charged at the server's rollover (00:00 UTC) by the first tick after it.

USDJPY (swap mode POINTS, swap_long 12.46, swap_short -25.92, triple day Wednesday) on a USD
account. One day's swap of 1 lot, in JPY: short -25.92 × 0.001 × 100,000 = -2,592; long
12.46 × 0.001 × 100,000 = 1,246; converted to USD by dividing by USDJPY at the tick that
charges it (a charge at the bid, the cautious rate, a credit at the ask), rounded to cents.

| rollover (ends) | charged at | bid/ask | short 1 lot | long 1 lot |
|---|---|---|---|---|
| Tue 00:00 (Mon ×1) | Tue 00:00:01 | 150.000/150.020 | -2,592/150 = -17.28 | not open |
| Wed 00:00 (Tue ×1) | Wed 00:00:01 | 148.000/148.020 | -17.5135 → -17.51 | 1,246/148.02 = 8.42 |
| Thu 00:00 (Wed ×3) | Thu 00:00:01 | 144.000/144.020 | -7,776/144 = -54.00 | 3,738/144.02 = 25.95 |
| Fri 00:00 (Thu ×1) | Fri 00:00:01 | 150.000/150.020 | -17.28 | 8.31 |
| Sat 00:00 (Fri ×1) | Sun 22:00 (first tick) | 160.000/160.020 | -16.20 | 7.79 |
| Sun 00:00 (Sat ×0) | Sun 22:00 | | 0 | 0 |
| Mon 00:00 (Sun ×0) | Mon 00:00:01 | 160.000/160.020 | 0 | 0 |

A week held: seven days' swap, -122.27 for the short; the long, opened on Tuesday at noon,
missed Monday's rollover: 50.47.
"""

from __future__ import annotations

import pytest
import redis

from brokers.mt5 import constants as mt5
from brokers.mt5.records import TradePosition
from brokers.sim.server import SimServer
from brokers.sim.swaps import Charge, daily, days
from brokers.sim.symbols import default_symbols
from brokers.sim.terminal import SimTerminal
from model.tick import Tick
from tests.brokers.sim.conftest import PREFIX
from tests.brokers.sim.test_money import publish

LOGIN = 7_500_001
LONG_HALF_LOT = TradePosition(
    1, 0, 0, 0, 0, mt5.POSITION_TYPE_BUY, 0, 1, 3, 0.5, 1.1, 0.0, 0.0, 1.1, 0.0, 0.0,
    "EURUSD", "", "",
)  # fmt: skip
MONDAY = 1_704_672_000  # 2024-01-08 00:00 UTC, a Monday
HOUR, DAY = 3600, 86_400


def jpy(at: float, bid: float) -> Tick:
    return Tick(int(at), bid, round(bid + 0.02, 3), time_msc=int(at * 1000), flags=6)


def deal(side: int, **extra: object) -> dict[str, object]:
    return {
        "action": mt5.TRADE_ACTION_DEAL,
        "symbol": "USDJPY",
        "volume": 1.0,
        "type": side,
        "type_filling": mt5.ORDER_FILLING_IOC,
        **extra,
    }


@pytest.fixture
def week(redis_client: redis.Redis) -> tuple[SimTerminal, list[float]]:
    now: list[float] = [MONDAY + 9 * HOUR]
    SimServer(redis_client, PREFIX, clock=lambda: now[0]).open_account(LOGIN, balance=100_000)
    terminal = SimTerminal(redis_client, PREFIX, clock=lambda: now[0])
    assert terminal.initialize(login=LOGIN)
    return terminal, now


def tick(
    terminal: SimTerminal, redis_client: redis.Redis, now: list[float], at: float, bid: float
) -> None:
    """The feed publishes the tick and the tick worker applies it, at time `at`."""
    now[0] = at
    quote = jpy(at, bid)
    publish(redis_client, "USDJPY", quote.bid, quote.ask, at)
    terminal.on_tick("USDJPY", quote)


def swaps(terminal: SimTerminal) -> list[float]:
    return [p.swap for p in terminal.positions_get() or ()]


def test_a_week_of_swaps_with_the_triple_day(
    week: tuple[SimTerminal, list[float]], redis_client: redis.Redis
) -> None:
    terminal, now = week
    tick(terminal, redis_client, now, MONDAY + 10 * HOUR, 145.000)
    short = terminal.order_send(deal(mt5.ORDER_TYPE_SELL))
    assert short is not None and short.retcode == mt5.TRADE_RETCODE_DONE
    tick(terminal, redis_client, now, MONDAY + 23 * HOUR, 145.000)
    assert swaps(terminal) == [0.0]  # no rollover yet
    tick(terminal, redis_client, now, MONDAY + DAY + 1, 150.000)
    assert swaps(terminal) == [-17.28]
    tick(terminal, redis_client, now, MONDAY + DAY + 12 * HOUR, 150.000)
    long = terminal.order_send(deal(mt5.ORDER_TYPE_BUY))
    assert long is not None and long.retcode == mt5.TRADE_RETCODE_DONE
    tick(terminal, redis_client, now, MONDAY + 2 * DAY + 1, 148.000)
    assert swaps(terminal) == [-34.79, 8.42]  # -17.28 - 17.51
    tick(terminal, redis_client, now, MONDAY + 3 * DAY + 1, 144.000)
    assert swaps(terminal) == [-88.79, 34.37]  # the triple day: -54.00, +25.95
    tick(terminal, redis_client, now, MONDAY + 4 * DAY + 1, 150.000)
    assert swaps(terminal) == [-106.07, 42.68]
    tick(terminal, redis_client, now, MONDAY + 4 * DAY + 20 * HOUR, 150.000)  # Friday 20:00
    assert swaps(terminal) == [-106.07, 42.68]
    tick(terminal, redis_client, now, MONDAY + 6 * DAY + 22 * HOUR, 160.000)  # Sunday's open
    assert swaps(terminal) == [-122.27, 50.47]  # Friday's rollover; Saturday's charges nothing
    tick(terminal, redis_client, now, MONDAY + 7 * DAY + 1, 160.000)
    assert swaps(terminal) == [-122.27, 50.47]  # Sunday's neither
    info = terminal.account_info()
    positions = terminal.positions_get() or ()
    assert info is not None
    floating = sum(p.profit for p in positions)
    assert info.profit == round(floating - 122.27 + 50.47, 2)  # equity counts the swaps
    # closing the short carries its swap into the deal and the balance
    tick(terminal, redis_client, now, MONDAY + 7 * DAY + 10 * HOUR, 160.000)
    closed = terminal.order_send(deal(mt5.ORDER_TYPE_BUY, position=short.order))
    assert closed is not None and closed.retcode == mt5.TRADE_RETCODE_DONE
    (exit_,) = terminal.history_deals_get(ticket=closed.order) or ()
    # sold at 145.000, bought back at the ask 160.020: -15.02 × 100,000 = -1,502,000 JPY
    # / 160.020 (the close) = -9,386.33 USD
    assert (exit_.swap, exit_.profit) == (-122.27, -9386.33)
    after = terminal.account_info()
    assert after is not None and after.balance == 100_000 - 9386.33 - 122.27


def test_a_partial_close_takes_its_share_of_the_swap(
    week: tuple[SimTerminal, list[float]], redis_client: redis.Redis
) -> None:
    terminal, now = week
    tick(terminal, redis_client, now, MONDAY + 10 * HOUR, 145.000)
    short = terminal.order_send(deal(mt5.ORDER_TYPE_SELL))
    assert short is not None
    tick(terminal, redis_client, now, MONDAY + DAY + 1, 150.000)  # -17.28
    closed = terminal.order_send(deal(mt5.ORDER_TYPE_BUY, volume=0.3, position=short.order))
    assert closed is not None and closed.retcode == mt5.TRADE_RETCODE_DONE
    (exit_,) = terminal.history_deals_get(ticket=closed.order) or ()
    assert exit_.swap == -5.18  # -17.28 × 0.3 = -5.184
    assert swaps(terminal) == [-12.10]  # -17.28 + 5.18


@pytest.mark.parametrize(
    ("mode", "swap", "expected"),
    [
        # 0.5 lot EURUSD long, open 1.10000, closing now at 1.20000; contract 100,000
        (mt5.SYMBOL_SWAP_MODE_DISABLED, -0.7, None),
        (mt5.SYMBOL_SWAP_MODE_POINTS, -0.7, Charge(-0.7 * 0.00001 * 100_000 * 0.5, "USD")),
        (mt5.SYMBOL_SWAP_MODE_CURRENCY_SYMBOL, -3.0, Charge(-1.5, "EUR")),  # 3 EUR a lot
        (mt5.SYMBOL_SWAP_MODE_CURRENCY_MARGIN, -3.0, Charge(-1.5, "EUR")),
        (mt5.SYMBOL_SWAP_MODE_CURRENCY_DEPOSIT, -3.0, Charge(-1.5, "GBP")),  # account's
        # 1.2 × 100,000 × 0.5 × -3.6 % / 360 = -6.00 USD a day; at the open price: -5.50
        (mt5.SYMBOL_SWAP_MODE_INTEREST_CURRENT, -3.6, Charge(-6.0, "USD")),
        (mt5.SYMBOL_SWAP_MODE_INTEREST_OPEN, -3.6, Charge(-5.5, "USD")),
        (mt5.SYMBOL_SWAP_MODE_REOPEN_CURRENT, -3.0, None),  # not simulated
    ],
)
def test_one_days_swap_by_mode(mode: int, swap: float, expected: Charge | None) -> None:
    info = default_symbols().get("EURUSD")
    assert info is not None
    info = info._replace(swap_mode=mode, swap_long=swap)
    charge = daily(info, LONG_HALF_LOT, 1.2, "GBP")
    if expected is None:
        assert charge is None
    else:
        assert charge is not None and charge.currency == expected.currency
        assert charge.amount == pytest.approx(expected.amount)


@pytest.mark.parametrize(
    ("ends", "triple", "count"),
    [
        (mt5.DAY_OF_WEEK_MONDAY, mt5.DAY_OF_WEEK_WEDNESDAY, 1),
        (mt5.DAY_OF_WEEK_WEDNESDAY, mt5.DAY_OF_WEEK_WEDNESDAY, 3),
        (mt5.DAY_OF_WEEK_FRIDAY, mt5.DAY_OF_WEEK_WEDNESDAY, 1),
        (mt5.DAY_OF_WEEK_FRIDAY, mt5.DAY_OF_WEEK_FRIDAY, 3),
        (mt5.DAY_OF_WEEK_SATURDAY, mt5.DAY_OF_WEEK_WEDNESDAY, 0),
        (mt5.DAY_OF_WEEK_SUNDAY, mt5.DAY_OF_WEEK_WEDNESDAY, 0),
    ],
)
def test_days_charged_by_the_rollover_of_each_weekday(ends: int, triple: int, count: int) -> None:
    info = default_symbols().get("USDJPY")
    assert info is not None
    # the rollover that ends day `ends` of the week of Monday 2024-01-08 (Sunday: the 7th)
    rollover = MONDAY + ((ends - 1) % 7 + 1) * DAY - (7 * DAY if ends == 0 else 0)
    assert days(info._replace(swap_rollover3days=triple), rollover) == count
