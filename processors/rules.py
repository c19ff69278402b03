"""A symbol's trading rules, checked with exact decimal arithmetic as MT5 checks them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from brokers.mt5.records import SymbolInfo
from model import OrderType
from model.money import dec, floor_to_step
from model.tick import Tick


@dataclass(frozen=True)
class Refusal(Exception):
    """Why an order cannot go out: the field at fault and the rule it broke."""

    field: str
    rule: str

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"


def tick_size(info: SymbolInfo) -> Decimal:
    return dec(info.trade_tick_size or info.point)


def check_volume(volume: Decimal, info: SymbolInfo, field: str = "volume") -> Decimal:
    vmin, vmax, step = dec(info.volume_min), dec(info.volume_max), dec(info.volume_step)
    if volume < vmin:
        raise Refusal(field, f"must be at least volume_min {vmin} for {info.name} (got {volume})")
    if volume > vmax:
        raise Refusal(field, f"must be at most volume_max {vmax} for {info.name} (got {volume})")
    if step and volume % step != 0:
        raise Refusal(field, f"must be a multiple of volume_step {step} (got {volume})")
    return volume


def floor_volume(volume: Decimal, info: SymbolInfo) -> Decimal:
    """A computed volume rounded down onto the volume step (never more risk than asked)."""
    step = dec(info.volume_step)
    return floor_to_step(volume, step) if step else volume


def check_price(price: Decimal, info: SymbolInfo, field: str = "price") -> Decimal:
    size = tick_size(info)
    if price % size != 0:
        raise Refusal(field, f"must be a multiple of the tick size {size} (got {price})")
    return price


def round_price(price: Decimal, info: SymbolInfo) -> Decimal:
    """A computed price (from points, pips or percent) put on the tick size."""
    size = tick_size(info)
    return (price / size).to_integral_value(ROUND_HALF_EVEN) * size


def stops_distance(info: SymbolInfo) -> Decimal:
    return dec(info.trade_stops_level) * dec(info.point)


def check_pending_price(
    order_type: OrderType, price: Decimal, info: SymbolInfo, tick: Tick
) -> None:
    """Limit orders rest on the better side of the market, stop orders on the worse side."""
    gap = stops_distance(info)
    ask, bid = dec(tick.ask), dec(tick.bid)
    ok = {
        OrderType.BUY_LIMIT: price <= ask - gap,
        OrderType.SELL_LIMIT: price >= bid + gap,
        OrderType.BUY_STOP: price >= ask + gap,
        OrderType.SELL_STOP: price <= bid - gap,
        OrderType.BUY_STOP_LIMIT: price >= ask + gap,
        OrderType.SELL_STOP_LIMIT: price <= bid - gap,
    }[order_type]
    if not ok:
        side = "below" if order_type in (OrderType.BUY_LIMIT, OrderType.SELL_STOP) else "above"
        side = "below" if order_type is OrderType.SELL_STOP_LIMIT else side
        ref = "ask" if order_type.is_buy else "bid"
        raise Refusal(
            "price",
            f"a {order_type} price must be {side} the {ref} ({ask if ref == 'ask' else bid}) "
            f"by at least the stops level {gap} (got {price})",
        )


def check_stops(
    is_buy: bool, reference: Decimal, sl: Decimal | None, tp: Decimal | None, info: SymbolInfo
) -> None:
    """SL/TP on the correct side of `reference` (bid/ask or the pending price), level away."""
    gap = stops_distance(info)
    if sl:
        if is_buy and sl > reference - gap:
            raise Refusal("stop_loss", f"must be below {reference - gap} for a buy (got {sl})")
        if not is_buy and sl < reference + gap:
            raise Refusal("stop_loss", f"must be above {reference + gap} for a sell (got {sl})")
    if tp:
        if is_buy and tp < reference + gap:
            raise Refusal("take_profit", f"must be above {reference + gap} for a buy (got {tp})")
        if not is_buy and tp > reference - gap:
            raise Refusal("take_profit", f"must be below {reference - gap} for a sell (got {tp})")
