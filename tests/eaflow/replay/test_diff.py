"""Replayed results against recorded ones: same, changed (which outcome), price (only prices
beyond the tolerance), new, missing."""

from __future__ import annotations

from decimal import Decimal

from eaflow.replay.diff import compare, summary
from model import OrderStatus
from tests.sinks.conftest import fill, rejection


def test_verdicts() -> None:
    recorded = [fill(1), fill(2), rejection(3), fill(4), fill(6), fill(7)]
    replayed = [
        fill(1, order_ticket=9999, done_at=0.5),  # tickets and times are not compared
        fill(2, price=Decimal("1.38760")),  # 0.002 % off: within the default 0.01 %
        rejection(3, field="symbol", rule="NOPE is not traded by demo-1"),
        fill(5),
        fill(6, price=Decimal("1.39000")),  # 0.18 % off
        fill(7, status=OrderStatus.PLACED, price=Decimal("1.39000"), deal_ticket=None),
    ]
    rows = compare(recorded, replayed)
    assert [(r.result_id, r.verdict) for r in rows] == [
        ("o1@demo-1", "same"),
        ("o2@demo-1", "same"),
        ("r3@*", "changed"),
        ("o5@demo-1", "new"),
        ("o6@demo-1", "price"),
        ("o7@demo-1", "changed"),
        ("o4@demo-1", "missing"),
    ]
    assert rows[2].changes == {
        "field": ("volume", "symbol"),
        "error": ("volume: must be on the volume step", "symbol: NOPE is not traded by demo-1"),
    }
    assert rows[4].changes == {"price": ("1.38755", "1.39000")}
    assert rows[4].deviations == {"price": Decimal("0.00245")}
    assert rows[5].changes == {
        "status": ("filled", "placed"),
        "deal_ticket": ("a ticket", None),
        "price": ("1.38756", "1.39000"),
    }
    assert summary(rows) == {"same": 2, "changed": 2, "price": 1, "new": 1, "missing": 1}


def test_a_tolerance_of_zero_shows_every_price_deviation() -> None:
    rows = compare([fill(2)], [fill(2, price=Decimal("1.38760"))], tolerance=Decimal(0))
    assert [(r.verdict, r.deviations) for r in rows] == [("price", {"price": Decimal("0.00003")})]
