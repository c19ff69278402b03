"""An order recorded as sent is looked up on the terminal before anything is sent again."""

from __future__ import annotations

from brokers.mt5.broker import Mt5Broker
from eaflow.models import Action, OrderStatus, TradingConfig
from processors.executor.execute import execute
from tests.brokers.mt5.conftest import make_order, run


async def resend(order_action: Action, broker: Mt5Broker, **fields: object) -> OrderStatus:
    order = make_order(order_action, **fields)
    sends = 0

    async def mark_sent() -> None:
        nonlocal sends
        sends += 1

    life, outcome = await execute(order, broker, TradingConfig(), mark_sent, already_sent=True)
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
