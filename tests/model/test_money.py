"""The exact money rules the router and the MT5 requests share."""

from __future__ import annotations

from decimal import Decimal

import pytest

from model.money import dec, floor_to_step, points_per_pip


def test_dec_keeps_the_printed_float() -> None:
    assert dec(0.01) == Decimal("0.01") and str(dec(0.1 + 0.2)) == "0.30000000000000004"
    assert dec(Decimal("1.50")) == Decimal("1.50")


@pytest.mark.parametrize(
    ("digits", "points"), [(5, 10), (3, 10), (None, 10), (4, 1), (2, 1), (0, 1)]
)
def test_points_per_pip(digits: int | None, points: int) -> None:
    assert points_per_pip(digits) == points


def test_floor_to_step_rounds_down_exactly() -> None:
    assert floor_to_step(Decimal("0.025"), Decimal("0.01")) == Decimal("0.02")
    assert str(floor_to_step(Decimal("0.1") / 3, Decimal("0.01"))) == "0.03"
    assert floor_to_step(Decimal("0.5"), Decimal("0.1")) == Decimal("0.5")
    assert floor_to_step(Decimal("0.009"), Decimal("0.01")) == 0
    assert floor_to_step(Decimal("7"), Decimal("5")) == Decimal("5")
