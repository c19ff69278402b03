"""MT5 request building: action, type, filling, deviation, magic, comment per order action."""

from __future__ import annotations

from decimal import Decimal

from brokers.mt5 import constants as mt5
from brokers.mt5.records import SymbolInfo, TradePosition
from brokers.mt5.requests import (
    close_request,
    filling_mode,
    matching_positions,
    open_request,
    order_comment,
)
from brokers.sim.symbols import default_symbols
from model import Action, Order, OrderType, Side
from tests.stubs import EURUSD_TICK


def _eurusd() -> SymbolInfo:
    info = default_symbols().get("EURUSD")
    assert info is not None
    return info


EURUSD = _eurusd()


def order(**fields: object) -> Order:
    base: dict[str, object] = {
        "order_id": "sig-1",
        "signal_id": "sig-1",
        "instance": "acct-1",
        "action": Action.OPEN,
        "symbol": "EURUSD",
        "deviation": 7,
        "magic": 42,
        "received_at": 1.0,
        "routed_at": 2.0,
    }
    return Order.model_validate({**base, **fields})


def position(ticket: int, kind: int, volume: float = 1.0, magic: int = 42) -> TradePosition:
    values: dict[str, object] = {f: 0 for f in TradePosition._fields}
    values.update(
        ticket=ticket,
        type=kind,
        volume=volume,
        symbol="EURUSD",
        comment="",
        sl=0.0,
        tp=0.0,
        external_id="",
        magic=magic,
    )
    return TradePosition(**values)  # type: ignore[arg-type]


def test_comment_is_short_stable_and_distinct_per_instance() -> None:
    first = order_comment("sig-1", "acct-1")
    assert first == order_comment("sig-1", "acct-1")
    assert first != order_comment("sig-1", "acct-2")
    assert len(first) <= 31 and first.startswith("ea:")


def test_market_buy_takes_the_ask_and_the_filling_the_symbol_allows() -> None:
    request = open_request(
        order(order_type=OrderType.BUY, volume=Decimal("0.1")), EURUSD, EURUSD_TICK
    )
    assert request["action"] == mt5.TRADE_ACTION_DEAL and request["type"] == mt5.ORDER_TYPE_BUY
    assert request["price"] == EURUSD_TICK.ask and request["volume"] == 0.1
    assert request["deviation"] == 7 and request["magic"] == 42
    assert request["type_filling"] == filling_mode(EURUSD)


def test_pending_orders_use_their_price_and_return_filling() -> None:
    request = open_request(
        order(
            order_type=OrderType.SELL_STOP_LIMIT,
            volume=Decimal("1"),
            price=Decimal("1.38"),
            stop_limit=Decimal("1.381"),
        ),
        EURUSD,
        EURUSD_TICK,
    )
    assert request["action"] == mt5.TRADE_ACTION_PENDING
    assert request["type"] == mt5.ORDER_TYPE_SELL_STOP_LIMIT
    assert (request["price"], request["stoplimit"]) == (1.38, 1.381)
    assert request["type_filling"] == mt5.ORDER_FILLING_RETURN


def test_filling_mode_follows_the_symbol_bit_mask() -> None:
    assert filling_mode(EURUSD._replace(filling_mode=1)) == mt5.ORDER_FILLING_FOK
    assert filling_mode(EURUSD._replace(filling_mode=2)) == mt5.ORDER_FILLING_IOC
    assert filling_mode(EURUSD._replace(filling_mode=0)) == mt5.ORDER_FILLING_RETURN


def test_close_is_an_opposite_deal_on_the_position_and_can_be_partial() -> None:
    buy = position(11, mt5.POSITION_TYPE_BUY, 0.5)
    request = close_request(
        order(action=Action.CLOSE, volume=Decimal("0.2")), buy, EURUSD, EURUSD_TICK
    )
    assert request["type"] == mt5.ORDER_TYPE_SELL and request["position"] == 11
    assert request["price"] == EURUSD_TICK.bid and request["volume"] == 0.2
    full = close_request(
        order(action=Action.CLOSE), position(12, mt5.POSITION_TYPE_SELL), EURUSD, EURUSD_TICK
    )
    assert full["type"] == mt5.ORDER_TYPE_BUY and full["volume"] == 1.0


def test_exits_filter_by_ticket_side_and_magic() -> None:
    manual = position(3, mt5.POSITION_TYPE_BUY, magic=0)
    positions = [position(1, mt5.POSITION_TYPE_BUY), position(2, mt5.POSITION_TYPE_SELL), manual]
    assert [p.ticket for p in matching_positions(order(action=Action.CLOSE), positions)] == [1, 2]
    longs = matching_positions(order(action=Action.CLOSE, side=Side.LONG), positions)
    assert [p.ticket for p in longs] == [1]
    assert [
        p.ticket for p in matching_positions(order(action=Action.CLOSE, ticket=2), positions)
    ] == [2]
    named = matching_positions(order(action=Action.CLOSE, ticket=3), positions)
    assert named == []  # a named ticket too must be this instance's (its magic)
