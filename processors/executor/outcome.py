"""Map MT5 retcodes to result statuses, and build the terminal `Result` of an order."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from brokers.mt5 import constants as mt5
from brokers.mt5.retcodes import retcode
from model import Action, Order, OrderLifecycle, OrderStatus, Result

SUCCESS_RETCODES = frozenset(
    {mt5.TRADE_RETCODE_DONE, mt5.TRADE_RETCODE_DONE_PARTIAL, mt5.TRADE_RETCODE_PLACED}
)
SUCCESS_STATUS = {
    Action.OPEN: OrderStatus.FILLED,
    Action.CLOSE: OrderStatus.CLOSED,
    Action.CLOSE_ALL: OrderStatus.CLOSED,
    Action.SLTP: OrderStatus.MODIFIED,
    Action.MODIFY: OrderStatus.MODIFIED,
    Action.CANCEL: OrderStatus.CANCELLED,
}
# Refused because of the request, the account or the symbol: sending it again cannot help.
REJECTING_RETCODES = frozenset(range(10013, 10020)) | frozenset(
    {10006, 10007, 10022, 10025, 10026, 10027, 10029, 10030, 10032, 10033, 10034, 10035, 10036}
    | set(range(10038, 10047))
)
# Transient or unexplained trouble on the way (requote, timeout, no prices, connection...):
# nothing was executed, but the same order may succeed later. Unknown codes fail too.
FAILING_RETCODES = frozenset({10004, 10011, 10012, 10020, 10021, 10023, 10024, 10028, 10031})


def status_for(action: Action, code: int, pending: bool = False) -> OrderStatus:
    """The result status of an order whose (last) request got `code` from the trade server."""
    if code in SUCCESS_RETCODES:
        return OrderStatus.PLACED if pending and action is Action.OPEN else SUCCESS_STATUS[action]
    return OrderStatus.REJECTED if code in REJECTING_RETCODES else OrderStatus.FAILED


@dataclass
class Outcome:
    """What the broker did with all requests of one order (close_all may send several)."""

    status: OrderStatus
    retcode: int | None = None
    order_ticket: int | None = None
    deal_ticket: int | None = None
    position_ticket: int | None = None
    requested_price: Decimal | None = None
    price: Decimal | None = None
    volume: Decimal | None = None
    field: str | None = None
    error: str | None = None
    notes: list[str] = dataclasses.field(default_factory=list)


def build_result(order: Order, life: OrderLifecycle, outcome: Outcome) -> Result:
    code = outcome.retcode
    return Result(
        result_id=order.result_id,
        order_id=order.order_id,
        signal_id=order.signal_id,
        instance=order.instance,
        action=order.action,
        symbol=order.symbol,
        signal_symbol=order.signal_symbol,
        sizing=order.sizing,
        status=outcome.status,
        retcode=code,
        retcode_name=retcode(code).name if code is not None else None,
        order_ticket=outcome.order_ticket,
        deal_ticket=outcome.deal_ticket,
        position_ticket=outcome.position_ticket,
        requested_price=outcome.requested_price,
        price=outcome.price,
        volume=outcome.volume,
        field=outcome.field,
        error=outcome.error,
        source=order.source,
        strategy=order.strategy or None,
        comment=order.comment or None,
        received_at=life.at(OrderStatus.RECEIVED),
        routed_at=life.at(OrderStatus.ROUTED),
        sent_at=life.at(OrderStatus.SENT),
        done_at=life.at(outcome.status) or 0.0,
    )
