"""Execute one order on its terminal: check, record as sent, send, retry what is retryable.

Synchronous on purpose: the whole execution is one function of the `Terminal`, run on a real
terminal's thread (one hop per order) or inline on a simulated account held in memory.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from brokers.mt5 import constants as mt5
from brokers.mt5.records import OrderSendResult
from brokers.mt5.requests import comment_of
from brokers.mt5.retcodes import retcode
from brokers.mt5.terminal import Terminal
from brokers.types import BrokerUnavailable, TradeRequest
from model import Order, OrderLifecycle, OrderStatus, TradingConfig
from model.money import dec
from processors.executor.applied import find_applied
from processors.executor.limits import AccountLimits
from processors.executor.outcome import SUCCESS_RETCODES, Outcome, status_for
from processors.executor.requests import plan_requests
from processors.metrics import ORDERS_SENT
from processors.rules import Refusal


@dataclass(frozen=True)
class RetryPolicy:
    """Retryable retcodes (requote, price changed, timeout...) are retried with backoff."""

    attempts: int = 3
    first_delay: float = 0.05


def execute(
    order: Order,
    terminal: Terminal,
    config: TradingConfig,
    mark_sent: Callable[[], None],
    already_sent: bool,
    retry: RetryPolicy = RetryPolicy(),
    limits: AccountLimits | None = None,
) -> tuple[OrderLifecycle, Outcome]:
    """The order's lifecycle and outcome. Raises BrokerUnavailable when the broker cannot
    be reached; the caller retries, and since the order is then recorded as sent, the next
    attempt first looks for it on the broker instead of sending it again."""
    life = OrderLifecycle(OrderStatus.RECEIVED, {OrderStatus.RECEIVED: order.received_at})
    life.advance(OrderStatus.ROUTED, order.routed_at)
    if already_sent:
        found = find_on_broker(order, terminal) or find_applied(order, terminal)
        if found is not None:
            life.advance(OrderStatus.SENT)
            life.advance(found.status)
            return life, found
    try:
        requests = plan_requests(order, terminal, config, limits)
    except Refusal as refusal:
        life.advance(OrderStatus.REJECTED)
        return life, Outcome(OrderStatus.REJECTED, field=refusal.field, error=str(refusal))
    outcome: Outcome | None = None
    for request in requests:
        check = terminal.order_check(request)
        if check is None:
            code, text = terminal.last_error()
            if code != mt5.RES_E_INVALID_PARAMS:
                raise BrokerUnavailable(f"order_check failed: {(code, text)}")
            failed = _malformed(text)  # no reconnect mends the request itself
            outcome = failed if outcome is None else _merge(outcome, failed)
            continue
        if check.retcode not in (0, *SUCCESS_RETCODES):
            if check.retcode == mt5.TRADE_RETCODE_CONNECTION:
                raise BrokerUnavailable(check.comment)
            failed = _refused(order, check.retcode, check.comment)
            outcome = failed if outcome is None else _merge(outcome, failed)
            continue
        if life.status is not OrderStatus.SENT:
            mark_sent()
            life.advance(OrderStatus.SENT)
        sent = _send(terminal, request, retry)
        ORDERS_SENT.labels(order.instance).inc()
        step = _from_send(order, request, sent)
        outcome = step if outcome is None else _merge(outcome, step)
    assert outcome is not None
    if life.status is OrderStatus.ROUTED and outcome.status is OrderStatus.FAILED:
        outcome.status = OrderStatus.REJECTED  # refused by order_check: nothing was sent
    life.advance(outcome.status)
    return life, outcome


def _send(terminal: Terminal, request: TradeRequest, retry: RetryPolicy) -> OrderSendResult:
    delay = retry.first_delay
    for attempt in range(1, retry.attempts + 1):
        sent = terminal.order_send(request)
        if sent is None:
            raise BrokerUnavailable(f"order_send failed: {terminal.last_error()}")
        if sent.retcode == mt5.TRADE_RETCODE_CONNECTION:
            raise BrokerUnavailable(sent.comment or "no connection with the trade server")
        if not retcode(sent.retcode).retryable or attempt == retry.attempts:
            return sent
        time.sleep(delay)  # on the terminal's thread; the held simulator never retries
        delay *= 2
        if request["action"] == mt5.TRADE_ACTION_DEAL:
            tick = terminal.symbol_info_tick(request["symbol"])
            if tick is not None:
                buying = request["type"] == mt5.ORDER_TYPE_BUY
                request = {**request, "price": tick.ask if buying else tick.bid}
    raise AssertionError("unreachable: the last attempt returns")


def _malformed(text: str) -> Outcome:
    """The terminal refused the request's arguments (last_error -2, `Invalid "x" argument`):
    a rejection naming the argument, not a broker to wait for."""
    named = re.search(r'Invalid "(\w+)" argument', text)
    return Outcome(
        OrderStatus.REJECTED,
        field=named.group(1) if named else "request",
        error=f"{named.group(1) if named else 'request'}: the terminal refused it ({text})",
    )


def _refused(order: Order, code: int, comment: str) -> Outcome:
    info = retcode(code)
    return Outcome(
        status_for(order.action, code),
        retcode=code,
        error=f"{info.name}: {comment or info.description}",
    )


def _from_send(order: Order, request: TradeRequest, sent: OrderSendResult) -> Outcome:
    pending = request["action"] == mt5.TRADE_ACTION_PENDING
    status = status_for(order.action, sent.retcode, pending)
    if status not in (OrderStatus.REJECTED, OrderStatus.FAILED):
        return Outcome(
            status,
            retcode=sent.retcode,
            order_ticket=sent.order or None,
            deal_ticket=sent.deal or None,
            position_ticket=request.get("position") or (sent.order if not pending else None),
            requested_price=dec(request["price"]) if request.get("price") else None,
            price=dec(sent.price) if sent.price else None,
            volume=dec(sent.volume) if sent.volume else None,
        )
    return _refused(order, sent.retcode, sent.comment)


def _merge(first: Outcome, then: Outcome) -> Outcome:
    """Several requests (close_all): success only if all succeeded; volumes add up."""
    if first.status in (OrderStatus.REJECTED, OrderStatus.FAILED):
        first.notes.append(then.error or str(then.status))
        return first
    if then.status in (OrderStatus.REJECTED, OrderStatus.FAILED):
        then.notes.append(f"after {first.status} of ticket {first.order_ticket}")
        return then
    first.volume = (first.volume or Decimal(0)) + (then.volume or Decimal(0))
    return first


def find_on_broker(order: Order, terminal: Terminal) -> Outcome | None:
    """After a crash between sending and recording: did the broker get this order?

    Our deals and orders carry the order's comment; a match means it was executed.
    """
    comment = comment_of(order)
    for pending in terminal.orders_get(order.symbol):
        if pending.comment == comment:
            return Outcome(
                OrderStatus.PLACED,
                retcode=mt5.TRADE_RETCODE_PLACED,
                order_ticket=pending.ticket,
                price=dec(pending.price_open),
                volume=dec(pending.volume_current),
            )
    now = datetime.now(UTC)
    deals = terminal.history_deals_get(now - timedelta(days=3), now + timedelta(days=1))
    ours = [d for d in deals if d.comment == comment]
    if not ours:
        return None
    deal = ours[0]
    return Outcome(
        status_for(order.action, mt5.TRADE_RETCODE_DONE),
        retcode=mt5.TRADE_RETCODE_DONE,
        order_ticket=deal.order,
        deal_ticket=deal.ticket,
        position_ticket=deal.position_id,
        price=dec(deal.price),
        volume=dec(sum(d.volume for d in ours)),
    )
