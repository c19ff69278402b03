"""Netting accounts: one position per symbol that deals add to, reduce, close or reverse."""

from __future__ import annotations

import pytest
import redis

from brokers.sim.booking import lots
from brokers.sim.server import SimServer
from brokers.sim.terminal import SimTerminal
from tests.brokers.sim.conftest import EURUSD_RISE, LOGIN, PREFIX, account, buy, quote, sell

NETTING = LOGIN + 50


@pytest.fixture
def netting(redis_client: redis.Redis, server: SimServer) -> SimTerminal:
    server.open_account(NETTING, balance=10_000, hedging=False)
    mt5 = SimTerminal(redis_client, PREFIX)
    assert mt5.initialize(login=NETTING)
    return mt5


def test_lots_are_exact_decimals() -> None:
    assert lots(0.3, 0.1, -1) == 0.2
    assert lots(0.1, 0.2) == 0.3


def test_deals_add_to_one_position_at_the_average_price(
    netting: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_RISE[0])  # ask 1.39473
    first = netting.order_send(buy(netting, "EURUSD", 0.1))
    quote(redis_client, "EURUSD", EURUSD_RISE[-1])  # ask 1.39496
    second = netting.order_send(buy(netting, "EURUSD", 0.3))
    assert first is not None and second is not None
    (position,) = netting.positions_get() or ()
    assert position.ticket == first.order
    assert position.volume == 0.4
    # (1.39473 x 0.1 + 1.39496 x 0.3) / 0.4 = 1.3949025, kept exact as MT5 keeps it (not
    # rounded to the symbol's 5 digits): at the bid 1.39485 the position's profit is
    # (1.39485 - 1.3949025) x 100,000 x 0.4 = -2.10 USD (rounded, -2.00: 0.25 point x 0.4 lot
    # x 100,000 = 10 cents lost)
    assert position.price_open == 1.3949025
    assert position.profit == -2.1
    deal = (netting.history_deals_get(ticket=second.order) or ())[0]
    assert (deal.entry, deal.position_id) == (netting.DEAL_ENTRY_IN, first.order)
    assert account(netting).margin_mode == netting.ACCOUNT_MARGIN_MODE_RETAIL_NETTING


def test_an_opposite_deal_reduces_then_reverses(
    netting: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_RISE[0])
    opened = netting.order_send(buy(netting, "EURUSD", 0.3))
    assert opened is not None
    quote(redis_client, "EURUSD", EURUSD_RISE[-1])  # bid 1.39485
    reduced = netting.order_send(sell(netting, "EURUSD", 0.1))
    assert reduced is not None and reduced.retcode == 10009
    (position,) = netting.positions_get() or ()
    assert (position.type, position.volume) == (netting.POSITION_TYPE_BUY, 0.2)
    reversed_ = netting.order_send(sell(netting, "EURUSD", 0.5))
    assert reversed_ is not None and reversed_.retcode == 10009
    (position,) = netting.positions_get() or ()
    assert (position.ticket, position.type, position.volume, position.price_open) == (
        opened.order,
        netting.POSITION_TYPE_SELL,
        0.3,
        1.39485,
    )
    deal = (netting.history_deals_get(ticket=reversed_.order) or ())[0]
    # the INOUT deal carries the whole 0.5 and the profit of the 0.2 it closed
    assert (deal.entry, deal.volume, deal.profit) == (netting.DEAL_ENTRY_INOUT, 0.5, 2.4)
    # 0.1 x 12 points + 0.2 x 12 points = 1.20 + 2.40
    assert account(netting).balance == 10003.6


def test_netting_close_to_flat(netting: SimTerminal, redis_client: redis.Redis) -> None:
    quote(redis_client, "EURUSD", EURUSD_RISE[0])
    assert netting.order_send(sell(netting, "EURUSD", 0.2)) is not None
    closed = netting.order_send(buy(netting, "EURUSD", 0.2))
    assert closed is not None and closed.retcode == 10009
    assert netting.positions_get() == ()
    assert account(netting).balance == 10000 - 2.4


def test_netting_refuses_close_by(netting: SimTerminal, redis_client: redis.Redis) -> None:
    quote(redis_client, "EURUSD", EURUSD_RISE[0])
    opened = netting.order_send(buy(netting, "EURUSD", 0.2))
    assert opened is not None
    by = {"action": netting.TRADE_ACTION_CLOSE_BY, "position": opened.order, "position_by": 1}
    result = netting.order_send(by)
    assert result is not None and result.retcode == netting.TRADE_RETCODE_INVALID
