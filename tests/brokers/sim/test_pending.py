"""Pending orders: place, modify, remove, with MT5's checks of price, stops and expiration."""

from __future__ import annotations

from typing import Any

import redis

from brokers.sim.terminal import SimTerminal
from tests.brokers.sim.conftest import EURUSD_OPEN, quote


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


def test_place_a_buy_limit(mt5: SimTerminal, redis_client: redis.Redis) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)  # bid 1.38742, ask 1.38755
    placed = mt5.order_send(
        pending(mt5, mt5.ORDER_TYPE_BUY_LIMIT, 1.387, sl=1.386, tp=1.39, magic=9, comment="x")
    )
    assert placed is not None
    assert (placed.retcode, placed.deal, placed.volume) == (mt5.TRADE_RETCODE_PLACED, 0, 0.1)
    (order,) = mt5.orders_get() or ()
    assert order.ticket == placed.order
    assert (order.type, order.state, order.price_open, order.sl, order.tp) == (
        mt5.ORDER_TYPE_BUY_LIMIT,
        mt5.ORDER_STATE_PLACED,
        1.387,
        1.386,
        1.39,
    )
    assert (order.price_current, order.magic, order.comment) == (1.38755, 9, "x")
    assert mt5.orders_total() == 1
    assert mt5.positions_total() == 0


def test_stops_of_a_pending_order_are_checked_against_its_price(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    # SL above the limit's own price is wrong although it is below the market
    bad = mt5.order_send(pending(mt5, mt5.ORDER_TYPE_BUY_LIMIT, 1.387, sl=1.3871))
    assert bad is not None and bad.retcode == mt5.TRADE_RETCODE_INVALID_STOPS
    # a sell stop's TP must be below its price
    bad = mt5.order_send(pending(mt5, mt5.ORDER_TYPE_SELL_STOP, 1.387, tp=1.3875))
    assert bad is not None and bad.retcode == mt5.TRADE_RETCODE_INVALID_STOPS


def test_stop_limit_needs_its_limit_on_the_far_side(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    kind = mt5.ORDER_TYPE_BUY_STOP_LIMIT
    bad = mt5.order_send(pending(mt5, kind, 1.388, stoplimit=1.3881))
    assert bad is not None and bad.retcode == mt5.TRADE_RETCODE_INVALID_PRICE
    good = mt5.order_send(pending(mt5, kind, 1.388, stoplimit=1.3878, sl=1.3870))
    assert good is not None and good.retcode == mt5.TRADE_RETCODE_PLACED
    (order,) = mt5.orders_get() or ()
    assert (order.price_open, order.price_stoplimit) == (1.388, 1.3878)


def test_modify_a_pending_order(mt5: SimTerminal, redis_client: redis.Redis) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    placed = mt5.order_send(pending(mt5, mt5.ORDER_TYPE_SELL_LIMIT, 1.389))
    assert placed is not None
    change = {"action": mt5.TRADE_ACTION_MODIFY, "order": placed.order, "symbol": "EURUSD"}
    done = mt5.order_send({**change, "price": 1.3895, "sl": 1.3905, "tp": 1.3880})
    assert done is not None and done.retcode == mt5.TRADE_RETCODE_DONE
    (order,) = mt5.orders_get(ticket=placed.order) or ()
    assert (order.price_open, order.sl, order.tp) == (1.3895, 1.3905, 1.388)
    same = mt5.order_send({**change, "price": 1.3895, "sl": 1.3905, "tp": 1.3880})
    assert same is not None and same.retcode == mt5.TRADE_RETCODE_NO_CHANGES
    wrong_side = mt5.order_send({**change, "price": 1.3870})
    assert wrong_side is not None and wrong_side.retcode == mt5.TRADE_RETCODE_INVALID_PRICE
    unknown = mt5.order_send({**change, "order": 123456789, "price": 1.39})
    assert unknown is not None and unknown.retcode == mt5.TRADE_RETCODE_INVALID


def test_remove_moves_the_order_to_the_history(mt5: SimTerminal, redis_client: redis.Redis) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    placed = mt5.order_send(pending(mt5, mt5.ORDER_TYPE_BUY_STOP, 1.388))
    assert placed is not None
    remove = {"action": mt5.TRADE_ACTION_REMOVE, "order": placed.order}
    done = mt5.order_send(remove)
    assert done is not None and (done.retcode, done.order) == (10009, placed.order)
    assert mt5.orders_get() == ()
    (old,) = mt5.history_orders_get(ticket=placed.order) or ()
    assert (old.state, old.price_open) == (mt5.ORDER_STATE_CANCELED, 1.388)
    again = mt5.order_send(remove)
    assert again is not None and again.retcode == mt5.TRADE_RETCODE_INVALID


def test_expiration_times(mt5: SimTerminal, redis_client: redis.Redis) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    later = 4_102_444_800  # 2100-01-01 00:00 UTC
    specified = mt5.order_send(
        pending(mt5, mt5.ORDER_TYPE_BUY_LIMIT, 1.387, type_time=2, expiration=later + 3600)
    )
    day = mt5.order_send(
        pending(mt5, mt5.ORDER_TYPE_BUY_LIMIT, 1.386, type_time=3, expiration=later + 3600)
    )
    assert specified is not None and day is not None
    orders = {o.ticket: o for o in mt5.orders_get() or ()}
    assert orders[specified.order].time_expiration == later + 3600
    assert orders[day.order].time_expiration == later + 86_400  # the end of that day
    past = mt5.order_send(pending(mt5, mt5.ORDER_TYPE_BUY_LIMIT, 1.387, type_time=2, expiration=1))
    assert past is not None and past.retcode == mt5.TRADE_RETCODE_INVALID_EXPIRATION
