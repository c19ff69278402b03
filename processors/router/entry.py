"""What an entry's alert adds to its order, resolved for one instance: a pending price given as
a distance from the instance's own quote, expiry against the symbol's expiration modes, a
take-profit ladder split over the sized volume, the alert's trailing in the symbol's points,
and the spread and account filters (PineConnector's `spread=` and `accfilter=`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from brokers.mt5.records import SymbolInfo
from model import AlertTrailing, OrderTime, OrderType, Signal, StopsUnit, TrailingStop
from model.money import dec
from model.tick import Tick
from processors.router.stops import distance_of, pip_size
from processors.rules import Refusal, check_price, floor_volume, round_price

EXPIRATION_FLAGS = {
    OrderTime.GTC: 1,  # SYMBOL_EXPIRATION_GTC
    OrderTime.DAY: 2,  # SYMBOL_EXPIRATION_DAY
    OrderTime.SPECIFIED: 4,  # SYMBOL_EXPIRATION_SPECIFIED
    OrderTime.SPECIFIED_DAY: 8,  # SYMBOL_EXPIRATION_SPECIFIED_DAY
}
ACCOUNT_FILTERS = (
    ("min_balance", "balance", "balance"),
    ("min_equity", "equity", "equity"),
    ("min_margin_free", "margin_free", "free margin"),
    ("min_margin_level", "margin_level", "margin level"),
)


def pending_price(signal: Signal, info: SymbolInfo, tick: Tick) -> Decimal:
    """The pending order's price: as given, or its distance from the current quote on the
    side the order type rests (a buy limit below the ask, a buy stop above it, a sell
    limit above the bid, a sell stop below it), put on the tick size."""
    assert signal.price is not None and signal.order_type is not None
    if signal.price_unit is StopsUnit.PRICE:
        return check_price(signal.price, info)
    order_type = signal.order_type
    reference = dec(tick.ask) if order_type.is_buy else dec(tick.bid)
    distance = distance_of(signal.price, signal.price_unit, reference, info)
    below = order_type in (OrderType.BUY_LIMIT, OrderType.SELL_STOP)
    price = round_price(reference - distance if below else reference + distance, info)
    if price <= 0:
        raise Refusal("price", f"{signal.price} {signal.price_unit} below {reference} is no price")
    return price


def plan_expiry(signal: Signal, info: SymbolInfo, now: float) -> tuple[OrderTime | None, int]:
    """MT5's `type_time` and `expiration` (whole seconds) of the order, refused naming the
    field when the symbol's `expiration_mode` does not allow that kind of order time."""
    if signal.type_time is None and signal.expiration is None:
        return None, 0
    kind = signal.type_time or OrderTime.SPECIFIED
    if not info.expiration_mode & EXPIRATION_FLAGS[kind]:
        allowed = [t.value for t, flag in EXPIRATION_FLAGS.items() if info.expiration_mode & flag]
        field = "type_time" if signal.type_time is not None else "expiration"
        raise Refusal(
            field,
            f"{info.name} allows only {', '.join(allowed) or 'no'} order times "
            f"(expiration_mode {info.expiration_mode}), not {kind}",
        )
    expiration = 0 if signal.expiration is None else math.ceil(signal.expiration)
    if expiration and expiration <= now:
        raise Refusal("expiration", f"{expiration} is not in the future (now {now:.0f})")
    return kind, expiration


def check_spread(signal: Signal, info: SymbolInfo, tick: Tick) -> None:
    if signal.max_spread_pips is None:
        return
    spread = (dec(tick.ask) - dec(tick.bid)) / pip_size(info)
    if spread > signal.max_spread_pips:
        raise Refusal(
            "max_spread_pips",
            f"the spread of {info.name} is {spread.normalize()} pips, above "
            f"{signal.max_spread_pips}",
        )


def check_account(signal: Signal, account: Mapping[str, Decimal] | None) -> None:
    """PineConnector's account filter: trade only while the balance (equity, free margin,
    margin level) is above the alert's minimum. A margin level of 0 means no position is
    open, which passes, as PineConnector says."""
    for field, key, what in ACCOUNT_FILTERS:
        minimum = getattr(signal, field)
        if minimum is None:
            continue
        if account is None or key not in account:
            raise Refusal(field, "no account snapshot of this instance yet; retry shortly")
        value = account[key]
        if key == "margin_level" and value == 0:
            continue
        if not value > minimum:
            raise Refusal(field, f"the {what} {value:.2f} is not above {minimum}")


def ladder_volumes(signal: Signal, total: Decimal, info: SymbolInfo) -> list[Decimal]:
    """The volume of each take-profit level: its share of `total`, rounded down onto the
    volume step, the last level taking what is left, so the levels add up to `total`."""
    legs = signal.take_profits
    shares = [leg.share or Decimal(100) / len(legs) for leg in legs]
    volumes = [floor_volume(total * share / 100, info) for share in shares[:-1]]
    volumes.append(total - sum(volumes, Decimal(0)))
    minimum = dec(info.volume_min)
    for n, (share, volume) in enumerate(zip(shares, volumes, strict=True), 1):
        if volume < minimum:
            raise Refusal(
                "take_profits",
                f"level {n}'s {share.normalize():f}% of {total} lots is {volume}, below "
                f"volume_min {minimum} of {info.name}",
            )
    return volumes


def trailing_points(trailing: AlertTrailing, info: SymbolInfo) -> TrailingStop:
    """The alert's trailing in the symbol's points (half up), as the ticks agent applies it."""
    point = dec(info.point)

    def points(value: Decimal) -> int:
        distance = distance_of(value, trailing.unit, Decimal(0), info)
        return int((distance / point).to_integral_value(ROUND_HALF_UP))

    return TrailingStop(
        enabled=True,
        distance=points(trailing.distance),
        step=points(trailing.step),
        activation=points(trailing.activation),
        breakeven_trigger=points(trailing.breakeven_trigger),
        breakeven_offset=points(trailing.breakeven_offset),
    )
