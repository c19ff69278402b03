"""Markers from results: which results show on the chart, and how."""

from __future__ import annotations

from decimal import Decimal

from eaflow.gateway.markers import marker
from model import Action, OrderStatus, Result


def result(status: OrderStatus, action: Action = Action.OPEN, ticket: int | None = 9) -> Result:
    return Result(
        result_id="o@i",
        order_id="o",
        signal_id="s",
        instance="i",
        action=action,
        symbol="EURUSD",
        status=status,
        price=Decimal("1.1"),
        volume=Decimal("0.1"),
        position_ticket=ticket,
        done_at=100.7,
    )


def test_fills_point_the_way_of_their_position() -> None:
    buy = marker(result(OrderStatus.FILLED), {9: 0})
    sell = marker(result(OrderStatus.FILLED), {9: 1})
    unknown = marker(result(OrderStatus.FILLED), {})
    assert buy is not None and sell is not None and unknown is not None
    assert (buy["shape"], buy["position"], buy["text"], buy["time"]) == (
        "arrowUp",
        "belowBar",
        "buy 0.1 @ 1.1",
        100,
    )
    assert (sell["shape"], sell["position"]) == ("arrowDown", "aboveBar")
    assert (unknown["shape"], unknown["text"]) == ("circle", "fill 0.1 @ 1.1")


def test_closes_pending_orders_and_stop_moves() -> None:
    kinds = [
        marker(result(s, a), {})
        for s, a in (
            (OrderStatus.CLOSED, Action.CLOSE),
            (OrderStatus.PLACED, Action.OPEN),
            (OrderStatus.MODIFIED, Action.SLTP),
            (OrderStatus.MODIFIED, Action.MODIFY),
        )
    ]
    assert [m["kind"] for m in kinds if m] == ["close", "placed", "sltp", "sltp"]


def test_refusals_and_switches_are_not_drawn() -> None:
    assert marker(result(OrderStatus.REJECTED), {}) is None
    assert marker(result(OrderStatus.MODIFIED, Action.HALT), {}) is None
