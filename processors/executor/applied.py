"""Was a change sent before a crash already applied? SL/TP, modify and cancel leave no deal.

Deals and pending orders carry our comment, so `find_on_broker` finds opens and closes. A
changed SL/TP, a modified or a removed pending order leaves nothing with our comment: the
account itself tells, by holding the values the order asked for, or by having the pending
order in its history as cancelled.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from brokers.mt5 import constants as mt5
from brokers.mt5.requests import matching_orders, matching_positions
from brokers.mt5.terminal import Terminal
from model import Action, Order, OrderStatus
from processors.executor.outcome import Outcome

HISTORY = timedelta(days=3)


def find_applied(order: Order, terminal: Terminal) -> Outcome | None:
    """The outcome of an SLTP, MODIFY or CANCEL order the account shows done; else None."""
    if order.action is Action.SLTP:
        positions = matching_positions(order, terminal.positions_get(order.symbol))
        done = bool(positions) and all(
            _same(p.sl, order.stop_loss) and _same(p.tp, order.take_profit) for p in positions
        )
        return _done(OrderStatus.MODIFIED) if done else None
    if order.action is Action.MODIFY:
        pending = matching_orders(order, terminal.orders_get(order.symbol))
        done = bool(pending) and all(
            _same(o.price_open, order.price)
            and _same(o.price_stoplimit, order.stop_limit)
            and _same(o.sl, order.stop_loss)
            and _same(o.tp, order.take_profit)
            for o in pending
        )
        return _done(OrderStatus.MODIFIED) if done else None
    if order.action is Action.CANCEL and order.ticket is not None:
        if terminal.orders_get(ticket=order.ticket):
            return None
        now = datetime.now(UTC)
        history = terminal.history_orders_get(now - HISTORY, now + timedelta(days=1))
        cancelled = any(
            o.ticket == order.ticket and o.state == mt5.ORDER_STATE_CANCELED for o in history
        )
        return _done(OrderStatus.CANCELLED, order.ticket) if cancelled else None
    return None


def _same(actual: float, wanted: Decimal | None) -> bool:
    """A field the order leaves out (None) keeps whatever value it has."""
    return wanted is None or math.isclose(actual, float(wanted), rel_tol=0, abs_tol=1e-9)


def _done(status: OrderStatus, ticket: int | None = None) -> Outcome:
    return Outcome(status, retcode=mt5.TRADE_RETCODE_DONE, order_ticket=ticket)
