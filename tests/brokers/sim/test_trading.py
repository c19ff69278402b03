"""Market deals on the simulator: fills at bid/ask, closes, partial closes, P&L, margin."""

from __future__ import annotations

import pytest
import redis

from brokers.sim.terminal import SimTerminal
from tests.brokers.sim.conftest import (
    EURUSD_OPEN,
    EURUSD_RISE,
    USDJPY_OPEN,
    XAUUSD_LATER,
    XAUUSD_OPEN,
    account,
    buy,
    quote,
    sell,
)


def test_buy_fills_at_the_ask_and_sell_at_the_bid(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    bought = mt5.order_send(buy(mt5, "EURUSD", 0.1, magic=42, comment="eaflow:abc"))
    sold = mt5.order_send(sell(mt5, "EURUSD", 0.2))
    assert bought is not None and sold is not None
    assert (bought.retcode, bought.price) == (10009, 1.38755)
    assert (bought.bid, bought.ask) == (1.38742, 1.38755)
    assert bought.comment == "Request executed"
    assert (sold.retcode, sold.price) == (10009, 1.38742)
    positions = {p.ticket: p for p in mt5.positions_get() or ()}
    opened = positions[bought.order]
    assert (opened.type, opened.volume, opened.price_open) == (mt5.POSITION_TYPE_BUY, 0.1, 1.38755)
    assert (opened.magic, opened.comment, opened.identifier) == (42, "eaflow:abc", bought.order)
    assert positions[sold.order].type == mt5.POSITION_TYPE_SELL
    # a buy is valued at the bid: 0.1 lot x 100,000 x (1.38742 - 1.38755) = -1.30 USD
    assert opened.price_current == 1.38742
    assert opened.profit == -1.3


def test_a_malformed_newest_tick_does_not_stop_trading(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    redis_client.xadd("ea:ticks:EURUSD", {"d": b"garbage"})
    bought = mt5.order_send(buy(mt5, "EURUSD", 0.1))
    assert bought is not None and bought.retcode == mt5.TRADE_RETCODE_DONE, mt5.last_error()
    assert bought.price == EURUSD_OPEN[2]
    assert [p.price_current for p in mt5.positions_get() or ()] == [EURUSD_OPEN[1]]


def test_a_deal_and_its_order_are_kept_in_the_history(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    sent = mt5.order_send(buy(mt5, "EURUSD", 0.1, magic=7, comment="c" * 40))
    assert sent is not None
    # MT5's `ticket` filter names the order: its deals (DEAL_ORDER), not a deal ticket
    (deal,) = mt5.history_deals_get(ticket=sent.order) or ()
    assert (deal.ticket, deal.position_id, deal.entry, deal.type) == (sent.deal, sent.order, 0, 0)
    assert mt5.history_deals_get(ticket=sent.deal) == ()  # a deal ticket is no order's
    assert (deal.magic, deal.comment, deal.reason) == (7, "c" * 31, mt5.DEAL_REASON_EXPERT)
    (order,) = mt5.history_orders_get(ticket=sent.order) or ()
    assert (order.state, order.position_id, order.volume_initial) == (
        mt5.ORDER_STATE_FILLED,
        sent.order,
        0.1,
    )


def test_closing_a_position_books_the_profit_into_the_balance(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_RISE[0])
    opened = mt5.order_send(buy(mt5, "EURUSD", 1.0))
    assert opened is not None
    quote(redis_client, "EURUSD", EURUSD_RISE[-1])
    closed = mt5.order_send(sell(mt5, "EURUSD", 1.0, position=opened.order))
    assert closed is not None and closed.retcode == 10009
    assert closed.price == 1.39485
    # (1.39485 - 1.39473) x 100,000 = 12.00 USD
    (deal,) = mt5.history_deals_get(ticket=closed.order) or ()
    assert deal.ticket == closed.deal
    assert (deal.entry, deal.profit, deal.position_id) == (mt5.DEAL_ENTRY_OUT, 12.0, opened.order)
    assert mt5.positions_get() == ()
    account = mt5.account_info()
    assert account is not None
    assert (account.balance, account.equity, account.margin) == (10012.0, 10012.0, 0.0)


def test_partial_close_keeps_the_rest_open(mt5: SimTerminal, redis_client: redis.Redis) -> None:
    quote(redis_client, "EURUSD", EURUSD_RISE[0])
    opened = mt5.order_send(buy(mt5, "EURUSD", 0.3))
    assert opened is not None
    quote(redis_client, "EURUSD", EURUSD_RISE[-1])
    closed = mt5.order_send(sell(mt5, "EURUSD", 0.1, position=opened.order))
    assert closed is not None and closed.retcode == 10009
    (position,) = mt5.positions_get() or ()
    assert (position.ticket, position.volume) == (opened.order, 0.2)  # 0.3 - 0.1, not 0.19999
    assert (mt5.history_deals_get(position=opened.order) or ())[-1].profit == 1.2
    rest = mt5.order_send(sell(mt5, "EURUSD", 0.2, position=opened.order))
    assert rest is not None and rest.retcode == 10009
    assert mt5.positions_get() == ()
    assert account(mt5).balance == 10003.6


def test_usdjpy_profit_in_yen_is_converted_to_dollars(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "USDJPY", USDJPY_OPEN)
    sold = mt5.order_send(sell(mt5, "USDJPY", 1.0))
    assert sold is not None and sold.price == 86.655
    (position,) = mt5.positions_get() or ()
    # a sell is valued at the ask: (86.655 - 86.728) x 100,000 = -7,300 JPY / 86.728 = -84.17 USD
    assert position.price_current == 86.728
    assert position.profit == -84.17


def test_order_calc_profit_matches_metaquotes_usdjpy_example(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    """MetaQuotes' order_calc_profit example: 1 lot, 300 points -> 276.54 / 278.09 USD."""
    quote(redis_client, "USDJPY", (1585000000000, 108.178, 108.183))
    assert mt5.order_calc_profit(mt5.ORDER_TYPE_BUY, "USDJPY", 1.0, 108.183, 108.483) == 276.54
    assert mt5.order_calc_profit(mt5.ORDER_TYPE_SELL, "USDJPY", 1.0, 108.178, 107.878) == 278.09
    quote(redis_client, "GBPUSD", (1585000000000, 1.22725, 1.22733))
    assert mt5.order_calc_profit(mt5.ORDER_TYPE_BUY, "GBPUSD", 1.0, 1.22733, 1.23033) == 300.0


def test_order_calc_margin_matches_metaquotes_example(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    """MetaQuotes' order_calc_margin example, 1:100: EURUSD 109.91, GBPUSD 122.73, USDJPY 100."""
    quote(redis_client, "EURUSD", (1585000000000, 1.09903, 1.09910))
    quote(redis_client, "GBPUSD", (1585000000000, 1.22725, 1.22730))
    assert mt5.order_calc_margin(mt5.ORDER_TYPE_BUY, "EURUSD", 0.1, 1.0991) == 109.91
    assert mt5.order_calc_margin(mt5.ORDER_TYPE_BUY, "GBPUSD", 0.1, 1.2273) == 122.73
    assert mt5.order_calc_margin(mt5.ORDER_TYPE_BUY, "USDJPY", 0.1, 108.0) == 100.0


def test_eurusd_margin_and_margin_level(mt5: SimTerminal, redis_client: redis.Redis) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    assert mt5.order_send(buy(mt5, "EURUSD", 1.0)) is not None
    account = mt5.account_info()
    assert account is not None
    # 1 lot = 100,000 EUR / 100 = 1,000 EUR of margin, x 1.38755 (ask) = 1,387.55 USD
    assert account.margin == 1387.55
    assert account.profit == -13.0
    assert account.equity == 9987.0
    assert account.margin_free == pytest.approx(9987.0 - 1387.55)
    assert account.margin_level == pytest.approx(9987.0 / 1387.55 * 100)
    assert account.margin_mode == mt5.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING


def test_xauusd_is_a_cfd_with_leverage(mt5: SimTerminal, redis_client: redis.Redis) -> None:
    quote(redis_client, "XAUUSD", XAUUSD_OPEN)
    sent = mt5.order_send(buy(mt5, "XAUUSD", 0.5))
    assert sent is not None and sent.price == 1290.606
    # 0.5 lot x 100 oz x 1290.606 / 100 = 645.30 USD
    assert account(mt5).margin == 645.3
    quote(redis_client, "XAUUSD", XAUUSD_LATER)
    (position,) = mt5.positions_get() or ()
    # (1287.848 - 1290.606) x 100 x 0.5 = -137.90 USD
    assert position.profit == -137.9
    closed = mt5.order_send(sell(mt5, "XAUUSD", 0.5, position=sent.order))
    assert closed is not None and closed.price == 1287.848
    assert account(mt5).balance == 10000 - 137.9


def test_order_check_reports_the_account_after_the_trade(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    checked = mt5.order_check(buy(mt5, "EURUSD", 1.0))
    assert checked is not None
    assert (checked.retcode, checked.comment) == (0, "Done")
    assert (checked.balance, checked.margin, checked.profit) == (10000.0, 1387.55, -13.0)
    assert checked.margin_free == pytest.approx(10000 - 13 - 1387.55)
    assert mt5.positions_total() == 0  # nothing was written


def test_close_by_nets_two_opposite_positions(mt5: SimTerminal, redis_client: redis.Redis) -> None:
    quote(redis_client, "EURUSD", EURUSD_RISE[0])
    long = mt5.order_send(buy(mt5, "EURUSD", 0.3))
    quote(redis_client, "EURUSD", EURUSD_RISE[-1])
    short = mt5.order_send(sell(mt5, "EURUSD", 0.1))
    assert long is not None and short is not None
    done = mt5.order_send(
        {"action": mt5.TRADE_ACTION_CLOSE_BY, "position": long.order, "position_by": short.order}
    )
    assert done is not None and done.retcode == 10009
    (left,) = mt5.positions_get() or ()
    assert (left.ticket, left.volume) == (long.order, 0.2)
    # 0.1 lot closed at the short's open 1.39485 against the long's 1.39473: 1.20 USD
    deals = mt5.history_deals_get(position=long.order) or ()
    assert (deals[-1].entry, deals[-1].profit) == (mt5.DEAL_ENTRY_OUT_BY, 1.2)
    (order,) = mt5.history_orders_get(ticket=done.order) or ()
    assert (order.type, order.position_by_id) == (mt5.ORDER_TYPE_CLOSE_BY, short.order)
    assert account(mt5).balance == 10001.2


def test_sltp_sets_and_removes_stops(mt5: SimTerminal, redis_client: redis.Redis) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    sent = mt5.order_send(buy(mt5, "EURUSD", 0.1))
    assert sent is not None
    request = {"action": mt5.TRADE_ACTION_SLTP, "symbol": "EURUSD", "position": sent.order}
    done = mt5.order_send({**request, "sl": 1.38, "tp": 1.4})
    assert done is not None and done.retcode == 10009
    assert [(p.sl, p.tp) for p in mt5.positions_get() or ()] == [(1.38, 1.4)]
    again = mt5.order_send({**request, "sl": 1.38, "tp": 1.4})
    assert again is not None and again.retcode == mt5.TRADE_RETCODE_NO_CHANGES
    cleared = mt5.order_send({**request, "sl": 0.0, "tp": 0.0})
    assert cleared is not None and cleared.retcode == 10009
    assert [(p.sl, p.tp) for p in mt5.positions_get() or ()] == [(0.0, 0.0)]
