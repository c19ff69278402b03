"""Ticks through `on_tick`: pending orders fill and SL/TP close on exactly the crossing tick."""

from __future__ import annotations

from typing import Any

import redis

from brokers.mt5.records import TradeDeal
from brokers.sim.terminal import SimTerminal
from tests.brokers.sim.conftest import (
    EURUSD_FALL,
    EURUSD_RISE,
    LOGIN,
    PREFIX,
    account,
    buy,
    make_tick,
    quote,
    sell,
)


def pending(mt5: SimTerminal, order_type: int, price: float, **extra: Any) -> dict[str, Any]:
    return {
        "action": mt5.TRADE_ACTION_PENDING,
        "symbol": "EURUSD",
        "volume": 0.1,
        "type": order_type,
        "price": price,
        "type_filling": mt5.ORDER_FILLING_RETURN,
        **extra,
    }


def replay(
    mt5: SimTerminal, client: redis.Redis, rows: list[tuple[int, float, float]]
) -> dict[int, list[TradeDeal]]:
    """Publish each tick and feed it to on_tick, as the tick worker does; deals by tick time."""
    caused = {}
    for row in rows:
        tick = quote(client, "EURUSD", row)
        deals = mt5.on_tick("EURUSD", tick)
        if deals:
            caused[tick.time_msc] = deals
    return caused


def test_buy_stop_fills_on_the_first_tick_with_ask_at_its_price(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_RISE[0])  # ask 1.39473
    placed = mt5.order_send(pending(mt5, mt5.ORDER_TYPE_BUY_STOP, 1.39480, tp=1.39600))
    assert placed is not None and placed.retcode == mt5.TRADE_RETCODE_PLACED
    caused = replay(mt5, redis_client, EURUSD_RISE[1:])
    assert list(caused) == [1399378801407]  # the tick with ask 1.39480
    (deal,) = caused[1399378801407]
    assert (deal.order, deal.position_id, deal.entry, deal.price) == (
        placed.order,
        placed.order,
        mt5.DEAL_ENTRY_IN,
        1.39480,
    )
    (position,) = mt5.positions_get() or ()
    assert (position.ticket, position.tp, position.price_open) == (placed.order, 1.396, 1.3948)
    assert mt5.orders_get() == ()
    (order,) = mt5.history_orders_get(ticket=placed.order) or ()
    assert (order.state, order.position_id) == (mt5.ORDER_STATE_FILLED, placed.order)


def test_take_profit_closes_a_buy_when_the_bid_reaches_it(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_RISE[0])
    opened = mt5.order_send(buy(mt5, "EURUSD", 1.0, tp=1.39475))  # at the ask 1.39473
    assert opened is not None and opened.retcode == 10009
    caused = replay(mt5, redis_client, EURUSD_RISE[1:])
    assert list(caused) == [1399378802255]  # bid 1.39475
    (deal,) = caused[1399378802255]
    assert (deal.reason, deal.entry, deal.price, deal.comment) == (
        mt5.DEAL_REASON_TP,
        mt5.DEAL_ENTRY_OUT,
        1.39475,
        "[tp 1.39475]",
    )
    assert deal.profit == 2.0  # (1.39475 - 1.39473) x 100,000
    assert mt5.positions_get() == ()
    closing = mt5.history_orders_get(ticket=deal.order) or ()
    assert [(o.reason, o.position_id) for o in closing] == [(mt5.ORDER_REASON_TP, opened.order)]
    assert account(mt5).balance == 10002.0


def test_stop_loss_fills_at_the_market_through_a_gap(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_FALL[0])  # ask 1.39481
    opened = mt5.order_send(buy(mt5, "EURUSD", 1.0, sl=1.39430))
    assert opened is not None and opened.retcode == 10009
    caused = replay(mt5, redis_client, EURUSD_FALL[1:])
    # bid 1.39431 does not reach it; 1.39426 jumps past it and fills there
    assert list(caused) == [1399379401522]
    (deal,) = caused[1399379401522]
    assert (deal.reason, deal.price, deal.comment) == (mt5.DEAL_REASON_SL, 1.39426, "[sl 1.39430]")
    assert deal.profit == -55.0  # (1.39426 - 1.39481) x 100,000


def test_a_sell_stop_loss_watches_the_ask(mt5: SimTerminal, redis_client: redis.Redis) -> None:
    quote(redis_client, "EURUSD", EURUSD_RISE[0])  # bid 1.39461
    opened = mt5.order_send(sell(mt5, "EURUSD", 0.1, sl=1.39490))
    assert opened is not None and opened.retcode == 10009
    caused = replay(mt5, redis_client, EURUSD_RISE[1:])
    assert list(caused) == [1399378802443]  # ask 1.39490
    (deal,) = caused[1399378802443]
    assert (deal.reason, deal.type, deal.price) == (mt5.DEAL_REASON_SL, mt5.DEAL_TYPE_BUY, 1.3949)


def test_sell_stop_and_buy_limit_on_a_falling_market(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_FALL[0])  # bid 1.39447, ask 1.39481
    stop = mt5.order_send(pending(mt5, mt5.ORDER_TYPE_SELL_STOP, 1.39435))
    limit = mt5.order_send(pending(mt5, mt5.ORDER_TYPE_BUY_LIMIT, 1.39474))
    assert stop is not None and limit is not None
    caused = replay(mt5, redis_client, EURUSD_FALL[1:])
    assert {t: [d.order for d in deals] for t, deals in caused.items()} == {
        1399379401512: [limit.order],  # ask 1.39474
        1399379401516: [stop.order],  # bid 1.39432, the first at or below 1.39435
    }
    assert caused[1399379401516][0].price == 1.39432
    assert caused[1399379401512][0].price == 1.39474


def test_stop_limit_becomes_a_limit_then_fills(mt5: SimTerminal, redis_client: redis.Redis) -> None:
    quote(redis_client, "EURUSD", EURUSD_RISE[0])
    placed = mt5.order_send(pending(mt5, mt5.ORDER_TYPE_BUY_STOP_LIMIT, 1.39480, stoplimit=1.39476))
    assert placed is not None and placed.retcode == mt5.TRADE_RETCODE_PLACED
    assert replay(mt5, redis_client, EURUSD_RISE[1:]) == {}
    (order,) = mt5.orders_get() or ()
    assert (order.ticket, order.type, order.price_open) == (
        placed.order,
        mt5.ORDER_TYPE_BUY_LIMIT,
        1.39476,
    )
    caused = replay(mt5, redis_client, EURUSD_FALL)
    assert list(caused) == [1399379401511]  # ask 1.39475 <= 1.39476
    assert caused[1399379401511][0].price == 1.39475


def test_expired_orders_leave_without_a_deal(redis_client: redis.Redis, mt5: SimTerminal) -> None:
    now = [1_700_000_000.0]
    clocked = SimTerminal(redis_client, PREFIX, clock=lambda: now[0])
    assert clocked.initialize(login=LOGIN)
    quote(redis_client, "EURUSD", EURUSD_RISE[0])
    placed = clocked.order_send(
        pending(mt5, mt5.ORDER_TYPE_BUY_LIMIT, 1.39400, type_time=2, expiration=1_700_000_060)
    )
    assert placed is not None and placed.retcode == mt5.TRADE_RETCODE_PLACED
    assert clocked.on_tick("EURUSD", make_tick(EURUSD_RISE[1])) == []
    assert clocked.orders_total() == 1
    now[0] += 60
    assert clocked.on_tick("EURUSD", make_tick(EURUSD_RISE[2])) == []
    assert clocked.orders_total() == 0
    (order,) = clocked.history_orders_get(ticket=placed.order) or ()
    assert order.state == mt5.ORDER_STATE_EXPIRED


def test_a_trigger_without_free_margin_rejects_the_order(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_RISE[0])
    placed = mt5.order_send({**pending(mt5, mt5.ORDER_TYPE_BUY_STOP, 1.39480), "volume": 50.0})
    assert placed is not None and placed.retcode == mt5.TRADE_RETCODE_PLACED
    assert replay(mt5, redis_client, EURUSD_RISE[1:]) == {}
    assert mt5.positions_total() == 0 and mt5.orders_total() == 0
    (order,) = mt5.history_orders_get(ticket=placed.order) or ()
    assert order.state == mt5.ORDER_STATE_REJECTED


def test_ticks_of_a_symbol_the_account_does_not_hold_cost_one_lookup(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    """A tick that neither crosses a level nor values a position costs one HMGET; one that
    values a position (the account's equity moves: stop-out) loads it, and writes nothing."""
    quote(redis_client, "EURUSD", EURUSD_RISE[0])
    assert mt5.order_send(buy(mt5, "EURUSD", 0.1)) is not None  # no SL/TP: nothing to watch
    before = redis_client.info("commandstats")
    for row in EURUSD_RISE:
        assert mt5.on_tick("GBPUSD", make_tick(row)) == []
    middle = redis_client.info("commandstats")
    for row in EURUSD_RISE:
        assert mt5.on_tick("EURUSD", make_tick(row)) == []
    after = redis_client.info("commandstats")

    def calls(since: dict[str, Any], until: dict[str, Any], name: str) -> int:
        return int(until.get(name, {"calls": 0})["calls"] - since.get(name, {"calls": 0})["calls"])

    assert calls(before, middle, "cmdstat_hmget") == len(EURUSD_RISE)
    assert calls(before, middle, "cmdstat_hgetall") == 0
    assert calls(middle, after, "cmdstat_hgetall") == 3 * len(EURUSD_RISE)  # a load each
    assert calls(middle, after, "cmdstat_evalsha") == 0  # no commit
