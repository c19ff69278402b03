"""An order recorded as sent is looked up on the terminal before anything is sent again."""

from __future__ import annotations

from typing import Any

from brokers.mt5.broker import Mt5Broker
from brokers.mt5.records import OrderCheckResult
from brokers.mt5.terminal import Terminal
from model import Action, OrderStatus, TradingConfig
from processors.executor.execute import execute
from tests.stubs import make_order, run


async def resend(order_action: Action, broker: Mt5Broker, **fields: object) -> OrderStatus:
    order = make_order(order_action, **fields)
    sends = 0

    def mark_sent() -> None:
        nonlocal sends
        sends += 1

    life, outcome = await broker.run(
        lambda terminal: execute(order, terminal, TradingConfig(), mark_sent, already_sent=True)
    )
    assert sends == 0  # found: nothing was marked or sent again
    assert [s.value for s in life.times][:3] == ["received", "routed", "sent"]
    return outcome.status


async def test_a_sent_sltp_already_in_place_is_modified_not_rejected(broker: Mt5Broker) -> None:
    _, opened, _ = await run(
        make_order(symbol="EURUSD", order_type="buy", volume="0.1", stop_loss="1.38000"), broker
    )
    status = await resend(
        Action.SLTP, broker, symbol="EURUSD", ticket=opened.position_ticket, stop_loss="1.38000"
    )
    assert status is OrderStatus.MODIFIED


async def test_a_sent_cancel_of_a_removed_order_is_cancelled(broker: Mt5Broker) -> None:
    _, placed, _ = await run(
        make_order(symbol="EURUSD", order_type="buy_limit", volume="0.1", price="1.38500"), broker
    )
    _, cancelled, _ = await run(make_order(Action.CANCEL, ticket=placed.order_ticket), broker)
    assert cancelled.status is OrderStatus.CANCELLED
    assert await resend(Action.CANCEL, broker, ticket=placed.order_ticket) is OrderStatus.CANCELLED


class RefusesArguments(Terminal):
    """A terminal that refuses the request's arguments (last_error -2), as MetaTrader5 does
    for a value its C layer cannot take."""

    def order_check(self, request: dict[str, Any]) -> OrderCheckResult | None:
        return super().order_check({**request, "deviation": -1})


async def test_refused_arguments_are_a_rejection_not_a_broker_to_wait_for(
    broker: Mt5Broker,
) -> None:
    """Regression (found by fuzzing orders): order_check answering None for a malformed
    request raised BrokerUnavailable, so the executor reconnected for 30 s, holding up the
    instance's other orders, and then failed it as "broker unavailable"."""
    refusing = Mt5Broker(broker.module, broker.name, broker.path, **broker.login)
    refusing.terminal = RefusesArguments(broker.module, broker.name)
    await refusing.connect()
    life, outcome, marked = await run(
        make_order(symbol="EURUSD", order_type="buy", volume="0.1"), refusing
    )
    assert (outcome.status, outcome.field, marked) == (OrderStatus.REJECTED, "deviation", 0)
    assert outcome.error is not None and outcome.error.startswith("deviation: the terminal")
    assert life.status is OrderStatus.REJECTED
