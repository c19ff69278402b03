"""Replayed results against recorded ones: same, changed (which fields), new, missing."""

from __future__ import annotations

from decimal import Decimal

from eaflow.replay.diff import compare, summary
from tests.sinks.conftest import fill, rejection


def test_verdicts() -> None:
    recorded = [fill(1), fill(2), rejection(3), fill(4)]
    replayed = [
        fill(1, order_ticket=9999, done_at=0.5),  # tickets and times are not compared
        fill(2, price=Decimal("1.38760")),
        rejection(3, field="symbol", rule="NOPE is not traded by demo-1"),
        fill(5),
    ]
    rows = compare(recorded, replayed)
    assert [(r.result_id, r.verdict) for r in rows] == [
        ("o1@demo-1", "same"),
        ("o2@demo-1", "changed"),
        ("r3@*", "changed"),
        ("o5@demo-1", "new"),
        ("o4@demo-1", "missing"),
    ]
    assert rows[1].changes == {"price": ("1.38757", "1.38760")}
    assert rows[2].changes == {
        "field": ("volume", "symbol"),
        "error": ("volume: must be on the volume step", "symbol: NOPE is not traded by demo-1"),
    }
    assert summary(rows) == {"same": 1, "changed": 2, "new": 1, "missing": 1}
