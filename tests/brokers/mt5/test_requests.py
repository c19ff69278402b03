"""MT5 request building: action, type, filling, deviation, magic, comment per order action."""

from __future__ import annotations

from decimal import Decimal

from brokers.mt5 import constants as mt5
from brokers.mt5.records import SymbolInfo, TradePosition
from brokers.mt5.requests import (
    close_request,
    close_volume,
    comment_of,
    filling_mode,
    matching_positions,
    open_request,
    order_comment,
)
from brokers.sim.symbols import default_symbols
from model import Action, Order, OrderTime, OrderType, Side
from model.tags import LABEL_LENGTH, label_in, label_of
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


def position(
    ticket: int, kind: int, volume: float = 1.0, magic: int = 42, comment: str = ""
) -> TradePosition:
    values: dict[str, object] = {f: 0 for f in TradePosition._fields}
    values.update(
        ticket=ticket,
        type=kind,
        volume=volume,
        symbol="EURUSD",
        comment=comment,
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


def test_a_tagged_comment_fits_mt5_and_reads_back_its_tag() -> None:
    """Decision 0015: the tag first, then the key eaflow recognises its order by."""
    untagged = order_comment("sig-1", "acct-1")
    assert untagged == order_comment("sig-1", "acct-1", "") and label_in(untagged) == ""
    tagged = order_comment("sig-1", "acct-1", "breakout 1h")
    assert len(tagged) <= 31 and tagged.startswith("breakout 1h#")
    assert tagged == order_comment("sig-1", "acct-1", "breakout 1h")  # stable
    assert tagged != order_comment("sig-2", "acct-1", "breakout 1h")
    assert label_in(tagged) == "breakout 1h"
    longest = order_comment("sig-1", "acct-1", "x" * LABEL_LENGTH)
    assert len(longest) == 31 and label_in(longest) == "x" * LABEL_LENGTH
    assert label_in("manual trade") is None and label_in("[sl 1.08000]") is None
    assert label_of(None, "gold fade, London open") == "gold fade, London"
    assert label_of("A", "ignored") == "A" and label_of(None, "café") == "caf?"
    assert comment_of(order(strategy="A")) == order_comment("sig-1", "acct-1", "A")


def test_an_exit_naming_a_strategy_leaves_the_other_strategies_trades() -> None:
    a = position(1, mt5.POSITION_TYPE_BUY, comment=order_comment("o-1", "acct-1", "A"))
    b = position(2, mt5.POSITION_TYPE_BUY, comment=order_comment("o-2", "acct-1", "B"))
    plain = position(3, mt5.POSITION_TYPE_BUY, comment=order_comment("o-3", "acct-1"))
    foreign = position(4, mt5.POSITION_TYPE_BUY, magic=7, comment=order_comment("o-4", "x", "A"))
    held = [a, b, plain, foreign]
    closing_a = order(action=Action.CLOSE, side=Side.LONG, strategy="A")
    assert [p.ticket for p in matching_positions(closing_a, held)] == [1]
    everything = order(action=Action.CLOSE, side=Side.LONG)
    assert [p.ticket for p in matching_positions(everything, held)] == [1, 2, 3]


def test_a_percent_close_rounds_down_onto_the_volume_step() -> None:
    half = order(action=Action.CLOSE, close_percent=Decimal("50"))
    assert close_volume(half, position(1, mt5.POSITION_TYPE_BUY, 0.05), EURUSD) == 0.02
    assert close_volume(half, position(1, mt5.POSITION_TYPE_BUY, 1.0), EURUSD) == 0.5
    third = order(action=Action.CLOSE, close_percent=Decimal("33"))
    assert close_volume(third, position(1, mt5.POSITION_TYPE_BUY, 0.10), EURUSD) == 0.03
    assert close_volume(half, position(1, mt5.POSITION_TYPE_BUY, 0.01), EURUSD) == 0.0
    request = close_request(half, position(5, mt5.POSITION_TYPE_SELL, 0.3), EURUSD, EURUSD_TICK)
    assert (request["volume"], request["type"]) == (0.15, mt5.ORDER_TYPE_BUY)


def test_pending_orders_carry_their_type_time_and_expiration() -> None:
    day = order(order_type=OrderType.BUY_LIMIT, price=Decimal("1.38"), volume=Decimal("0.1"),
                type_time=OrderTime.DAY)  # fmt: skip
    request = open_request(day, EURUSD, EURUSD_TICK)
    assert (request["type_time"], request["expiration"]) == (mt5.ORDER_TIME_DAY, 0)
    until = order(order_type=OrderType.SELL_STOP, price=Decimal("1.38"), volume=Decimal("0.1"),
                  type_time=OrderTime.SPECIFIED, expiration=1778086800)  # fmt: skip
    request = open_request(until, EURUSD, EURUSD_TICK)
    assert (request["type_time"], request["expiration"]) == (mt5.ORDER_TIME_SPECIFIED, 1778086800)
    plain = open_request(
        order(order_type=OrderType.BUY, volume=Decimal("0.1")), EURUSD, EURUSD_TICK
    )
    assert plain["type_time"] == mt5.ORDER_TIME_GTC and "expiration" not in plain
