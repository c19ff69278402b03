"""Build MT5 trade requests for every order action from our `Order` and the account's state."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from decimal import Decimal

from brokers.mt5 import constants as mt5
from brokers.mt5.records import SymbolInfo, TradeOrder, TradePosition
from brokers.types import TradeRequest
from model import Action, Order, OrderTime, OrderType, Side
from model.money import dec, floor_to_step
from model.tags import KEY_LENGTH, LABEL_LENGTH, SEPARATOR, label_in
from model.tick import Tick

ORDER_TYPES = {
    OrderType.BUY: mt5.ORDER_TYPE_BUY,
    OrderType.SELL: mt5.ORDER_TYPE_SELL,
    OrderType.BUY_LIMIT: mt5.ORDER_TYPE_BUY_LIMIT,
    OrderType.SELL_LIMIT: mt5.ORDER_TYPE_SELL_LIMIT,
    OrderType.BUY_STOP: mt5.ORDER_TYPE_BUY_STOP,
    OrderType.SELL_STOP: mt5.ORDER_TYPE_SELL_STOP,
    OrderType.BUY_STOP_LIMIT: mt5.ORDER_TYPE_BUY_STOP_LIMIT,
    OrderType.SELL_STOP_LIMIT: mt5.ORDER_TYPE_SELL_STOP_LIMIT,
}
BUY_ORDER_TYPES = frozenset(
    {mt5.ORDER_TYPE_BUY_LIMIT, mt5.ORDER_TYPE_BUY_STOP, mt5.ORDER_TYPE_BUY_STOP_LIMIT}
)
ORDER_TIMES = {
    OrderTime.GTC: mt5.ORDER_TIME_GTC,
    OrderTime.DAY: mt5.ORDER_TIME_DAY,
    OrderTime.SPECIFIED: mt5.ORDER_TIME_SPECIFIED,
    OrderTime.SPECIFIED_DAY: mt5.ORDER_TIME_SPECIFIED_DAY,
}
SYMBOL_FILLING_FOK = 1  # symbol_info().filling_mode is a bit mask, unlike ORDER_FILLING_*
SYMBOL_FILLING_IOC = 2


def order_comment(order_id: str, instance: str, strategy: str = "") -> str:
    """A short (≤ 31 chars, MT5's limit) comment that identifies the order on the terminal,
    with the order's strategy tag first when it has one (model.tags, decision 0015):
    `ea:<20 hex>` untagged, `<tag>#<12 base32>` tagged.

    Reconciliation finds our orders and deals by it after a crash.
    """
    digest = hashlib.blake2b(f"{order_id}@{instance}".encode(), digest_size=10)
    if not strategy:
        return f"ea:{digest.hexdigest()}"
    key = base64.b32encode(digest.digest()).decode().lower()[:KEY_LENGTH]
    return f"{strategy[:LABEL_LENGTH]}{SEPARATOR}{key}"


def comment_of(order: Order) -> str:
    """The MT5 comment of `order`'s requests."""
    return order_comment(order.order_id, order.instance, order.strategy)


def filling_mode(info: SymbolInfo, pending: bool = False) -> int:
    """The filling type the symbol allows: FOK, else IOC, else RETURN (exchange execution)."""
    if pending:
        return mt5.ORDER_FILLING_RETURN
    if info.filling_mode & SYMBOL_FILLING_FOK:
        return mt5.ORDER_FILLING_FOK
    if info.filling_mode & SYMBOL_FILLING_IOC:
        return mt5.ORDER_FILLING_IOC
    return mt5.ORDER_FILLING_RETURN


def _f(value: object) -> float:
    return float(value) if value is not None else 0.0  # type: ignore[arg-type]


def _base(order: Order) -> TradeRequest:
    return {
        "magic": order.magic,
        "comment": comment_of(order),
        "deviation": order.deviation,
        "type_time": mt5.ORDER_TIME_GTC,
    }


def open_request(order: Order, info: SymbolInfo, tick: Tick) -> TradeRequest:
    """A market deal, or a pending order living as `type_time` says (until `expiration`)."""
    assert order.order_type is not None
    pending = order.order_type.is_pending
    price = order.price if pending else (tick.ask if order.order_type.is_buy else tick.bid)
    timing: TradeRequest = {}
    if pending and order.type_time is not None:
        timing = {"type_time": ORDER_TIMES[order.type_time], "expiration": order.expiration}
    return {
        **_base(order),
        **timing,
        "action": mt5.TRADE_ACTION_PENDING if pending else mt5.TRADE_ACTION_DEAL,
        "symbol": info.name,
        "volume": _f(order.volume),
        "type": ORDER_TYPES[order.order_type],
        "price": _f(price),
        "stoplimit": _f(order.stop_limit),
        "sl": _f(order.stop_loss),
        "tp": _f(order.take_profit),
        "type_filling": filling_mode(info, pending),
    }


def _side_matches(is_buy: bool, side: Side | None) -> bool:
    return side is None or (side is Side.LONG) == is_buy


def _ours(order: Order, ticket: int, magic: int, comment: str) -> bool:
    """Exits act only on this instance's trades (its magic number), never on manual trades
    or other EAs' positions, even when they name a ticket; one naming a ticket acts on that
    trade alone, one naming a strategy on that strategy's trades alone (the tag in their
    comments)."""
    if magic != order.magic or (order.ticket is not None and ticket != order.ticket):
        return False
    return not order.strategy or label_in(comment) == order.strategy[:LABEL_LENGTH]


def matching_positions(order: Order, positions: Iterable[TradePosition]) -> list[TradePosition]:
    return [
        p
        for p in positions
        if _ours(order, p.ticket, p.magic, p.comment)
        and (order.symbol is None or p.symbol == order.symbol)
        and _side_matches(p.type == mt5.POSITION_TYPE_BUY, order.side)
    ]


def matching_orders(order: Order, orders: Iterable[TradeOrder]) -> list[TradeOrder]:
    return [
        o
        for o in orders
        if _ours(order, o.ticket, o.magic, o.comment)
        and (order.symbol is None or o.symbol == order.symbol)
        and _side_matches(o.type in BUY_ORDER_TYPES or o.type == mt5.ORDER_TYPE_BUY, order.side)
    ]


def close_request(
    order: Order, position: TradePosition, info: SymbolInfo, tick: Tick
) -> TradeRequest:
    """Close (part of) a position with an opposite deal at the current price."""
    is_buy = position.type == mt5.POSITION_TYPE_BUY
    volume = close_volume(order, position, info)
    return {
        **_base(order),
        "action": mt5.TRADE_ACTION_DEAL,
        "symbol": position.symbol,
        "volume": volume,
        "type": mt5.ORDER_TYPE_SELL if is_buy else mt5.ORDER_TYPE_BUY,
        "position": position.ticket,
        "price": tick.bid if is_buy else tick.ask,
        "type_filling": filling_mode(info),
    }


def close_volume(order: Order, position: TradePosition, info: SymbolInfo) -> float:
    """Lots to close of `position`: all, the order's volume (at most the position's), or its
    `close_percent` rounded down onto the symbol's volume step (0.0 when that leaves
    nothing, which the executor refuses by name)."""
    if order.close_percent is not None:
        step = dec(info.volume_step) if info.volume_step else Decimal("1e-8")
        lots = floor_to_step(dec(position.volume) * order.close_percent / 100, step)
        return float(lots) if lots >= dec(info.volume_min) else 0.0
    return min(_f(order.volume), position.volume) if order.volume else position.volume


def sltp_request(order: Order, position: TradePosition) -> TradeRequest:
    return {
        **_base(order),
        "action": mt5.TRADE_ACTION_SLTP,
        "symbol": position.symbol,
        "position": position.ticket,
        "sl": _f(order.stop_loss) if order.stop_loss is not None else position.sl,
        "tp": _f(order.take_profit) if order.take_profit is not None else position.tp,
    }


def modify_request(order: Order, pending: TradeOrder) -> TradeRequest:
    """New price, stop-limit, SL/TP and, when the order gives them, type_time/expiration."""
    timing: TradeRequest = {}
    if order.type_time is not None:
        timing = {"type_time": ORDER_TIMES[order.type_time], "expiration": order.expiration}
    return {
        **_base(order),
        "action": mt5.TRADE_ACTION_MODIFY,
        "order": pending.ticket,
        "symbol": pending.symbol,
        "price": _f(order.price) if order.price is not None else pending.price_open,
        "stoplimit": _f(order.stop_limit)
        if order.stop_limit is not None
        else pending.price_stoplimit,
        "sl": _f(order.stop_loss) if order.stop_loss is not None else pending.sl,
        "tp": _f(order.take_profit) if order.take_profit is not None else pending.tp,
        "type_time": pending.type_time,
        **timing,
    }


def remove_request(order: Order, pending: TradeOrder) -> TradeRequest:
    return {**_base(order), "action": mt5.TRADE_ACTION_REMOVE, "order": pending.ticket}


def close_by_request(
    order: Order, position: TradePosition, opposite: TradePosition
) -> TradeRequest:
    return {
        **_base(order),
        "action": mt5.TRADE_ACTION_CLOSE_BY,
        "symbol": position.symbol,
        "position": position.ticket,
        "position_by": opposite.ticket,
    }


def close_by_plan(
    positions: Iterable[TradePosition],
) -> tuple[list[tuple[TradePosition, TradePosition]], list[TradePosition]]:
    """Pairs of opposite positions to close by each other, and what is left to close by deals.

    On a hedging account a close-by closes a buy against a sell of the same symbol without
    paying the spread twice. Oldest positions pair first; the larger of a pair stays open with
    the difference (MT5 keeps its ticket), and may pair again. The rest comes back with the
    volume it will have then.
    """
    by_symbol: dict[str, list[TradePosition]] = {}
    for position in sorted(positions, key=lambda p: p.ticket):
        by_symbol.setdefault(position.symbol, []).append(position)
    pairs: list[tuple[TradePosition, TradePosition]] = []
    rest: list[TradePosition] = []
    for group in by_symbol.values():
        buys = [p for p in group if p.type == mt5.POSITION_TYPE_BUY]
        sells = [p for p in group if p.type != mt5.POSITION_TYPE_BUY]
        left = {p.ticket: Decimal(str(p.volume)) for p in group}
        b = s = 0
        while b < len(buys) and s < len(sells):
            buy, sell = buys[b], sells[s]
            pairs.append((buy, sell))
            closed = min(left[buy.ticket], left[sell.ticket])
            left[buy.ticket] -= closed
            left[sell.ticket] -= closed
            b += left[buy.ticket] == 0
            s += left[sell.ticket] == 0
        rest += [p._replace(volume=float(left[p.ticket])) for p in group if left[p.ticket] > 0]
    return pairs, rest


EXIT_ACTIONS_NEEDING_POSITIONS = frozenset({Action.CLOSE, Action.SLTP, Action.CLOSE_ALL})
