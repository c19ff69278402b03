"""Stop-out on the tick path: the most losing position closed at the tick that takes the
margin level (or, in money mode, the equity) to the stop-out level, worked by hand.

A 5,000 USD hedging account, 1:100, margin call 50 %, stop-out 30 %, holds three buys: P1 1.0
lot and P2 0.5 lot of XAUUSD at 2000.500, P3 1.0 lot of EURUSD at 1.10010 (EURUSD stays at
1.10000 / 1.10010: P3 loses 10.00, its margin is 1000 EUR × 1.10010 = 1,100.10).
XAUUSD (CFD Leverage, contract 100) ticks down with a 0.5 spread; at bid b:

    equity E = 5,000 - 10 + 150 × (b - 2000.5)
    margin M = 1.5 × 100 × (b + 0.5) / 100 + 1,100.10
    level  = E / M × 100, stop-out where E = 0.3 M: 149.55 b = 295,415.255, b = 1975.3611
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import redis

from brokers.mt5 import constants as mt5
from brokers.mt5.records import TradeDeal
from brokers.sim.book import Account, Summary
from brokers.sim.server import SimServer
from brokers.sim.stopout import MarginState, state
from brokers.sim.terminal import SimTerminal
from model import OrderStatus, TradingConfig
from model.tick import Tick
from processors.ticks.accounts import TickAccount
from tests.brokers.sim.conftest import PREFIX
from tests.brokers.sim.test_money import NOW, publish

LOGIN = 7_400_001


def xau(bid: float, at: float) -> Tick:
    return Tick(int(at), bid, round(bid + 0.5, 3), time_msc=int(at * 1000), flags=6)


def order(symbol: str, lots: float) -> dict[str, object]:
    return {
        "action": mt5.TRADE_ACTION_DEAL,
        "symbol": symbol,
        "volume": lots,
        "type": mt5.ORDER_TYPE_BUY,
        "type_filling": mt5.ORDER_FILLING_FOK,
    }


@pytest.fixture
def three(redis_client: redis.Redis) -> tuple[SimTerminal, list[int]]:
    publish(redis_client, "XAUUSD", 2000.000, 2000.500)
    publish(redis_client, "EURUSD", 1.10000, 1.10010)
    SimServer(redis_client, PREFIX, clock=lambda: NOW).open_account(LOGIN, balance=5_000)
    terminal = SimTerminal(redis_client, PREFIX, clock=lambda: NOW + 60)
    assert terminal.initialize(login=LOGIN)
    tickets = []
    for symbol, lots in (("XAUUSD", 1.0), ("XAUUSD", 0.5), ("EURUSD", 1.0)):
        sent = terminal.order_send(order(symbol, lots))
        assert sent is not None and sent.retcode == mt5.TRADE_RETCODE_DONE
        tickets.append(sent.order)
    return terminal, tickets


def level(mt5_: SimTerminal) -> tuple[float, float, float]:
    info = mt5_.account_info()
    assert info is not None
    return info.equity, info.margin, round(info.margin_level, 2)


def test_three_positions_are_stopped_out_at_the_right_tick(
    three: tuple[SimTerminal, list[int]], redis_client: redis.Redis
) -> None:
    terminal, (p1, p2, p3) = three
    # bid 1990: E = 4,990 - 1,575 = 3,415; M = 1.5 × 1,990.5 + 1,100.10 = 4,085.85; 83.58 %
    assert terminal.on_tick("XAUUSD", xau(1990.000, NOW + 61)) == []
    publish(redis_client, "XAUUSD", 1990.000, 1990.500, NOW + 61)
    assert level(terminal) == (3415.00, 4085.85, 83.58)
    # bid 1975.5: E = 4,990 - 3,750 = 1,240; M = 2,964 + 1,100.10 = 4,064.10; 30.51 % (margin
    # call, not yet stop-out)
    assert terminal.on_tick("XAUUSD", xau(1975.500, NOW + 62)) == []
    publish(redis_client, "XAUUSD", 1975.500, 1976.000, NOW + 62)
    assert level(terminal) == (1240.00, 4064.10, 30.51)
    # bid 1975.3: E = 4,990 - 3,780 = 1,210; M = 2,963.70 + 1,100.10 = 4,063.80: 29.78 % ≤ 30:
    # P1, the largest loss ((1975.3 - 2000.5) × 100 = -2,520), closes at the bid 1975.300;
    # then E = 1,210 still, M = 987.90 + 1,100.10 = 2,088.00: 57.95 %, so P2 and P3 stay
    (closed,) = terminal.on_tick("XAUUSD", xau(1975.300, NOW + 63))
    assert (closed.position_id, closed.reason, closed.entry) == (
        p1,
        mt5.DEAL_REASON_SO,
        mt5.DEAL_ENTRY_OUT,
    )
    assert (closed.price, closed.volume, closed.profit) == (1975.3, 1.0, -2520.0)
    assert closed.comment == "[so 29.78%/1210.00/4063.80]"
    publish(redis_client, "XAUUSD", 1975.300, 1975.800, NOW + 63)
    assert [p.ticket for p in terminal.positions_get() or ()] == [p2, p3]
    assert level(terminal) == (1210.00, 2088.00, 57.95)
    info = terminal.account_info()
    assert info is not None and info.balance == 2480.00  # 5,000 - 2,520
    (so_order,) = terminal.history_orders_get(ticket=closed.order) or ()
    assert (so_order.reason, so_order.type) == (mt5.ORDER_REASON_SO, mt5.ORDER_TYPE_SELL)
    # bid 1960: E = 2,480 + 50 × (1960 - 2000.5) - 10 = 445; M = 0.5 × 1,960.5 + 1,100.10 =
    # 2,080.35: 21.39 %: P2 (-2,025) closes; E = 445, M = 1,100.10: 40.45 %: P3 stays
    (second,) = terminal.on_tick("XAUUSD", xau(1960.000, NOW + 64))
    assert (second.position_id, second.profit) == (p2, -2025.0)
    publish(redis_client, "XAUUSD", 1960.000, 1960.500, NOW + 64)
    assert [p.ticket for p in terminal.positions_get() or ()] == [p3]
    assert level(terminal) == (445.00, 1100.10, 40.45)


def test_the_tick_worker_reports_a_stop_out(
    three: tuple[SimTerminal, list[int]], redis_client: redis.Redis
) -> None:
    """Through the ticks worker's account: a batch of XAUUSD ticks ends in a closed result
    whose source is `stop_out`, on the tick at 1975.3 (not the ones before)."""
    terminal, (p1, _, _) = three
    account = TickAccount("demo-so", terminal, TradingConfig(), on_tick=terminal.on_tick)
    batch = [xau(bid, NOW + 70 + n) for n, bid in enumerate((1990.0, 1975.5, 1975.3, 1975.2))]
    (result,) = account.apply("XAUUSD", batch)
    assert (result.status, result.source, result.position_ticket) == (
        OrderStatus.CLOSED,
        "stop_out",
        p1,
    )
    assert result.price == Decimal("1975.3")


def test_a_tick_of_a_symbol_that_only_converts_can_stop_out(redis_client: redis.Redis) -> None:
    """An EUR account's XAUUSD position is valued through EURUSD: a EURUSD tick alone moves
    its equity and margin. 3,000 EUR, 1.0 lot XAUUSD bought at 2000.500 with EURUSD at 1.10000
    / 1.10010: margin 2,000.5 USD / 1.10000 = 1,818.64 EUR. XAUUSD then falls to 1980.000 /
    1980.500 (loss 2,050 USD). At EURUSD 1.10000: loss 2,050 / 1.10000 = 1,863.64 → E =
    1,136.36, M = 1,980.5 / 1.1 = 1,800.45: 63.12 % (63.115). At EURUSD 0.70000 / 0.70010 the dollar
    is dearer: loss 2,050 / 0.70000 = 2,928.57 → E = 71.43, M = 1,980.5 / 0.7 = 2,829.29:
    2.52 % ≤ 30 %: stopped out by the EURUSD tick."""
    publish(redis_client, "XAUUSD", 2000.000, 2000.500)
    publish(redis_client, "EURUSD", 1.10000, 1.10010)
    SimServer(redis_client, PREFIX, clock=lambda: NOW).open_account(
        LOGIN, balance=3_000, currency="EUR"
    )
    terminal = SimTerminal(redis_client, PREFIX, clock=lambda: NOW + 60)
    assert terminal.initialize(login=LOGIN)
    bought = terminal.order_send(order("XAUUSD", 1.0))
    assert bought is not None and bought.retcode == mt5.TRADE_RETCODE_DONE
    publish(redis_client, "XAUUSD", 1980.000, 1980.500, NOW + 61)
    assert terminal.on_tick("XAUUSD", xau(1980.000, NOW + 61)) == []
    assert level(terminal) == (1136.36, 1800.45, 63.12)
    euro = Tick(int(NOW + 62), 0.70000, 0.70010, time_msc=int((NOW + 62) * 1000), flags=6)
    account = TickAccount("demo-eur", terminal, TradingConfig(), on_tick=terminal.on_tick)
    (result,) = account.apply("EURUSD", [euro])
    assert (result.source, result.position_ticket, result.symbol) == (
        "stop_out",
        bought.order,
        "XAUUSD",
    )
    deals: tuple[TradeDeal, ...] = terminal.history_deals_get(ticket=result.order_ticket) or ()
    assert [d.profit for d in deals] == [-2928.57]  # -2,050 USD / 0.70000


@pytest.mark.parametrize(
    ("mode", "call", "so", "equity", "margin", "expected"),
    [
        (mt5.ACCOUNT_STOPOUT_MODE_PERCENT, 50.0, 30.0, 510.0, 1000.0, MarginState.OK),
        (mt5.ACCOUNT_STOPOUT_MODE_PERCENT, 50.0, 30.0, 500.0, 1000.0, MarginState.MARGIN_CALL),
        (mt5.ACCOUNT_STOPOUT_MODE_PERCENT, 50.0, 30.0, 300.0, 1000.0, MarginState.STOP_OUT),
        (mt5.ACCOUNT_STOPOUT_MODE_PERCENT, 50.0, 30.0, -5.0, 0.0, MarginState.OK),  # no margin
        (mt5.ACCOUNT_STOPOUT_MODE_MONEY, 800.0, 400.0, 800.0, 1000.0, MarginState.MARGIN_CALL),
        (mt5.ACCOUNT_STOPOUT_MODE_MONEY, 800.0, 400.0, 399.99, 1000.0, MarginState.STOP_OUT),
        (mt5.ACCOUNT_STOPOUT_MODE_MONEY, 800.0, 400.0, 800.01, 1000.0, MarginState.OK),
    ],
)
def test_levels_in_percent_or_money(
    mode: int, call: float, so: float, equity: float, margin: float, expected: MarginState
) -> None:
    account = Account(1, "", "USD", 100, True, 1000.0, margin_so_mode=mode)
    account.margin_so_call, account.margin_so_so = call, so
    level_ = equity / margin * 100 if margin else 0.0
    summary = Summary(1000.0, equity - 1000.0, margin, equity, equity - margin, level_)
    assert state(account, summary) is expected


def test_a_money_stop_out_closes_at_the_equity_level(redis_client: redis.Redis) -> None:
    """Money mode, stop-out at 1,000 USD equity: 5,000 USD, 1 lot XAUUSD at 2000.500. At bid
    1960.000 the loss is 4,050: E = 950 ≤ 1,000: closed at 1960.000."""
    publish(redis_client, "XAUUSD", 2000.000, 2000.500)
    SimServer(redis_client, PREFIX, clock=lambda: NOW).open_account(
        LOGIN,
        balance=5_000,
        margin_so_mode=mt5.ACCOUNT_STOPOUT_MODE_MONEY,
        margin_so_call=2_000,
        margin_so_so=1_000,
    )
    terminal = SimTerminal(redis_client, PREFIX, clock=lambda: NOW + 60)
    assert terminal.initialize(login=LOGIN)
    info = terminal.account_info()
    assert info is not None
    assert (info.margin_so_mode, info.margin_so_call, info.margin_so_so) == (1, 2000.0, 1000.0)
    assert terminal.order_send(order("XAUUSD", 1.0)) is not None
    assert terminal.on_tick("XAUUSD", xau(1961.000, NOW + 61)) == []  # E = 1,050
    (closed,) = terminal.on_tick("XAUUSD", xau(1960.000, NOW + 62))
    assert (closed.profit, closed.comment) == (-4050.0, "[so 950.00/1960.50]")
    assert terminal.positions_total() == 0
