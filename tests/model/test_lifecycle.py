"""The order state machine: only its transitions change a status."""

from __future__ import annotations

import pytest

from model import IllegalTransition, OrderLifecycle, OrderStatus


def test_happy_path_records_the_time_of_each_status() -> None:
    life = OrderLifecycle(OrderStatus.RECEIVED, {OrderStatus.RECEIVED: 1.0})
    life.advance(OrderStatus.ROUTED, 2.0)
    life.advance(OrderStatus.SENT, 3.0)
    life.advance(OrderStatus.SENT, 3.5)  # a retried send
    life.advance(OrderStatus.FILLED, 4.0)
    assert life.status is OrderStatus.FILLED and life.status.is_terminal
    assert [life.at(s) for s in (OrderStatus.RECEIVED, OrderStatus.ROUTED, OrderStatus.FILLED)] == [
        1.0,
        2.0,
        4.0,
    ]


@pytest.mark.parametrize(
    "path",
    [
        (OrderStatus.SENT,),  # not routed yet
        (OrderStatus.ROUTED, OrderStatus.FILLED),  # filled without being sent
        (OrderStatus.REJECTED, OrderStatus.ROUTED),  # out of a terminal status
        (OrderStatus.ROUTED, OrderStatus.SENT, OrderStatus.FILLED, OrderStatus.CLOSED),
    ],
)
def test_illegal_transitions_raise(path: tuple[OrderStatus, ...]) -> None:
    life = OrderLifecycle()
    with pytest.raises(IllegalTransition):
        for status in path:
            life.advance(status)
