"""Exact money rules shared by the router and the brokers: pips and volume steps."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal


def dec(value: float | Decimal) -> Decimal:
    """A float from MT5 as the decimal it was printed from (0.01, not 0.0100000000000000002)."""
    return value if isinstance(value, Decimal) else Decimal(repr(value))


def points_per_pip(digits: int | None) -> int:
    """A pip is 10 points on 3- and 5-digit quotes (fractional pips), 1 point otherwise;
    10 when the symbol's digits are unknown."""
    return 1 if digits is not None and digits not in (3, 5) else 10


def floor_to_step(volume: Decimal, step: Decimal) -> Decimal:
    """`volume` rounded down onto a multiple of `step` (never more lots than asked)."""
    return (volume / step).to_integral_value(ROUND_DOWN) * step
