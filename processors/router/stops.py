"""Turn a signal's SL/TP (price, points, pips or percent) into absolute prices."""

from __future__ import annotations

from decimal import Decimal

from brokers.mt5.records import SymbolInfo
from model import StopsUnit
from model.money import dec, points_per_pip
from processors.rules import round_price


def pip_size(info: SymbolInfo) -> Decimal:
    """A pip is 10 points on 3- and 5-digit quotes (fractional pips), 1 point otherwise."""
    return dec(info.point) * points_per_pip(info.digits)


def distance_of(value: Decimal, unit: StopsUnit, reference: Decimal, info: SymbolInfo) -> Decimal:
    """`value` in `unit` as a price distance: points, pips, a percent of `reference`, or
    already a price distance (`price`)."""
    if unit is StopsUnit.POINTS:
        return value * dec(info.point)
    if unit is StopsUnit.PIPS:
        return value * pip_size(info)
    if unit is StopsUnit.PERCENT:
        return reference * value / 100
    return value


def absolute_stop(
    value: Decimal | None,
    unit: StopsUnit,
    entry: Decimal,
    is_buy: bool,
    is_loss: bool,
    info: SymbolInfo,
) -> Decimal | None:
    """`value` as a price: a distance away from `entry` on the loss or the profit side."""
    if not value:
        return None
    if unit is StopsUnit.PRICE:
        return value
    distance = distance_of(value, unit, entry, info)
    below = is_buy == is_loss  # a buy's SL and a sell's TP lie below the entry
    return round_price(entry - distance if below else entry + distance, info)
