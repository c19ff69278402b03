"""History queries: by date range, deal/order ticket, position and symbol group."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import redis

from brokers.sim.history import in_group, millis
from brokers.sim.terminal import SimTerminal
from tests.brokers.sim.conftest import EURUSD_OPEN, LOGIN, PREFIX, USDJPY_OPEN, buy, quote, sell


@pytest.mark.parametrize(
    ("symbol", "group", "chosen"),
    [
        ("EURUSD", None, True),
        ("EURUSD", "*", True),
        ("EURUSD", "*USD*", True),
        ("USDJPY", "*,!*JPY*", False),
        ("EURUSD", "*,!*JPY*", True),
        ("GBPUSD", "EUR*, GBP*", True),
        ("USDJPY", "EUR*, GBP*", False),
        ("EURUSD", "!EUR*", False),
    ],
)
def test_groups(symbol: str, group: str | None, chosen: bool) -> None:
    assert in_group(symbol, group) is chosen


def test_millis() -> None:
    assert millis(datetime(2020, 1, 10, tzinfo=UTC)) == 1578614400000
    assert millis(datetime(2020, 1, 10)) == 1578614400000
    assert millis(1578614400) == 1578614400000
    assert millis(1578614400, end=True) == 1578614400999


@pytest.fixture
def clocked(mt5: SimTerminal, redis_client: redis.Redis) -> tuple[SimTerminal, list[float]]:
    """A terminal whose server time the test moves."""
    now = [1_700_000_000.0]
    terminal = SimTerminal(redis_client, PREFIX, clock=lambda: now[0])
    assert terminal.initialize(login=LOGIN)
    return terminal, now


def test_deals_and_orders_by_time_ticket_and_position(
    clocked: tuple[SimTerminal, list[float]], redis_client: redis.Redis
) -> None:
    mt5, now = clocked
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    quote(redis_client, "USDJPY", USDJPY_OPEN)
    first = mt5.order_send(buy(mt5, "EURUSD", 0.1))
    now[0] += 3600
    second = mt5.order_send(sell(mt5, "USDJPY", 0.1))
    now[0] += 3600
    assert first is not None and second is not None
    closed = mt5.order_send(sell(mt5, "EURUSD", 0.1, position=first.order))
    assert closed is not None

    hour_two = mt5.history_deals_get(1_700_003_600, 1_700_003_600) or ()
    assert [d.ticket for d in hour_two] == [second.deal]
    until = datetime(2023, 11, 15, 0, 13, 20)  # 1_700_007_200, naive = UTC
    all_three = mt5.history_deals_get(1_700_000_000, until) or ()
    assert [d.ticket for d in all_three] == [first.deal, second.deal, closed.deal]
    by_position = mt5.history_deals_get(position=first.order) or ()
    assert [d.entry for d in by_position] == [mt5.DEAL_ENTRY_IN, mt5.DEAL_ENTRY_OUT]
    no_yen = mt5.history_deals_get(0, 2**31, group="*,!*JPY*") or ()
    assert second.deal not in {d.ticket for d in no_yen}
    assert len(no_yen) == 3  # the deposit (no symbol) and the two EURUSD deals

    orders = mt5.history_orders_get(1_700_000_000, 1_700_007_200) or ()
    assert [o.ticket for o in orders] == [first.order, second.order, closed.order]
    assert [o.ticket for o in mt5.history_orders_get(position=first.order) or ()] == [
        first.order,
        closed.order,
    ]
    assert [o.symbol for o in mt5.history_orders_get(ticket=second.order) or ()] == ["USDJPY"]


def test_history_needs_a_range_or_a_ticket(mt5: SimTerminal) -> None:
    assert mt5.history_deals_get() is None
    assert mt5.last_error()[0] == -2
    assert mt5.history_orders_get(datetime(2020, 1, 1)) is None
    assert mt5.history_deals_get(ticket=123) == ()
