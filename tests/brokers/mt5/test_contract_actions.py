"""Contract: every order action, built by the adapter and executed by the executor's code on the
simulator's MetaTrader5 facade, asserted the way one would check a real terminal afterwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from brokers.mt5 import constants as mt5
from brokers.mt5.broker import Mt5Broker
from brokers.mt5.records import TradeDeal
from brokers.mt5.requests import close_by_plan, close_by_request, order_comment
from brokers.sim.terminal import SimTerminal
from model import Action, OrderStatus, TradingConfig
from tests.stubs import INSTANCE, LOGIN, MAGIC, QUOTES, make_order, run

BID, ASK = QUOTES["EURUSD"]


async def deals_of(broker: Mt5Broker, comment: str) -> list[TradeDeal]:
    now = datetime.now(UTC)
    deals = await broker.history_deals_get(now - timedelta(hours=1), now + timedelta(hours=1))
    return [d for d in deals if d.comment == comment]


async def open_position(broker: Mt5Broker, order_type: str, volume: str) -> int:
    _, outcome, _ = await run(
        make_order(symbol="EURUSD", order_type=order_type, volume=volume), broker
    )
    assert outcome.status is OrderStatus.FILLED and outcome.position_ticket is not None
    return outcome.position_ticket


@pytest.mark.parametrize(("order_type", "side", "price"), [("buy", 0, ASK), ("sell", 1, BID)])
async def test_a_market_order_fills_at_the_quote_and_carries_magic_and_comment(
    broker: Mt5Broker, order_type: str, side: int, price: float
) -> None:
    order = make_order(symbol="EURUSD", order_type=order_type, volume="0.10")
    life, outcome, marked = await run(order, broker)
    assert (outcome.status, outcome.retcode, marked) == (OrderStatus.FILLED, 10009, 1)
    assert [s.value for s in life.times] == ["received", "routed", "sent", "filled"]
    assert outcome.price == Decimal(str(price)) and outcome.volume == Decimal("0.1")
    (position,) = await broker.positions_get("EURUSD")
    comment = order_comment(order.order_id, order.instance)
    assert (position.ticket, position.type, position.volume) == (outcome.position_ticket, side, 0.1)
    assert (position.price_open, position.magic, position.comment) == (price, MAGIC, comment)
    (deal,) = await deals_of(broker, comment)
    assert (deal.entry, deal.magic, deal.position_id) == (mt5.DEAL_ENTRY_IN, MAGIC, position.ticket)
    assert deal.ticket == outcome.deal_ticket


async def test_the_filling_mode_follows_the_symbols_bit_mask(broker: Mt5Broker) -> None:
    """USDJPY's dump allows IOC only (filling_mode 2), EURUSD FOK (1): both fill."""
    for symbol in ("USDJPY", "EURUSD"):
        _, outcome, _ = await run(
            make_order(symbol=symbol, order_type="buy", volume="0.01"), broker
        )
        assert (symbol, outcome.status) == (symbol, OrderStatus.FILLED)


@pytest.mark.parametrize(
    ("order_type", "price", "stop_limit", "mt5_type"),
    [
        ("buy_limit", "1.38500", None, mt5.ORDER_TYPE_BUY_LIMIT),
        ("sell_limit", "1.39000", None, mt5.ORDER_TYPE_SELL_LIMIT),
        ("buy_stop", "1.39000", None, mt5.ORDER_TYPE_BUY_STOP),
        ("sell_stop", "1.38500", None, mt5.ORDER_TYPE_SELL_STOP),
        ("buy_stop_limit", "1.39000", "1.38900", mt5.ORDER_TYPE_BUY_STOP_LIMIT),
        ("sell_stop_limit", "1.38500", "1.38600", mt5.ORDER_TYPE_SELL_STOP_LIMIT),
    ],
)
async def test_each_pending_type_is_placed_and_rests_on_the_terminal(
    broker: Mt5Broker, order_type: str, price: str, stop_limit: str | None, mt5_type: int
) -> None:
    order = make_order(
        symbol="EURUSD", order_type=order_type, volume="0.05", price=price, stop_limit=stop_limit
    )
    life, outcome, _ = await run(order, broker)
    assert (outcome.status, outcome.retcode) == (OrderStatus.PLACED, 10008)
    assert life.status is OrderStatus.PLACED and outcome.position_ticket is None
    (pending,) = await broker.orders_get("EURUSD")
    assert (pending.ticket, pending.type, pending.price_open) == (
        outcome.order_ticket,
        mt5_type,
        float(price),
    )
    assert pending.price_stoplimit == (float(stop_limit) if stop_limit else 0.0)
    assert pending.type_filling == mt5.ORDER_FILLING_RETURN
    assert (pending.magic, pending.comment) == (MAGIC, order_comment(order.order_id, INSTANCE))
    assert await broker.positions_get() == ()


async def test_sltp_moves_the_stops_of_a_position(broker: Mt5Broker) -> None:
    ticket = await open_position(broker, "buy", "0.10")
    order = make_order(
        Action.SLTP, symbol="EURUSD", ticket=ticket, stop_loss="1.38000", take_profit="1.40000"
    )
    _, outcome, _ = await run(order, broker)
    assert (outcome.status, outcome.retcode) == (OrderStatus.MODIFIED, 10009)
    (position,) = await broker.positions_get(ticket=ticket)
    assert (position.sl, position.tp) == (1.38, 1.4)


async def test_modify_changes_a_pending_orders_price_and_stops(broker: Mt5Broker) -> None:
    _, placed, _ = await run(
        make_order(symbol="EURUSD", order_type="buy_limit", volume="0.05", price="1.38500"), broker
    )
    order = make_order(
        Action.MODIFY,
        symbol="EURUSD",
        ticket=placed.order_ticket,
        price="1.38400",
        stop_loss="1.38000",
        take_profit="1.39500",
    )
    _, outcome, _ = await run(order, broker)
    assert (outcome.status, outcome.retcode) == (OrderStatus.MODIFIED, 10009)
    (pending,) = await broker.orders_get(ticket=placed.order_ticket)
    assert (pending.price_open, pending.sl, pending.tp) == (1.384, 1.38, 1.395)


async def test_cancel_removes_a_pending_order_into_history(broker: Mt5Broker) -> None:
    _, placed, _ = await run(
        make_order(symbol="EURUSD", order_type="sell_stop", volume="0.05", price="1.38500"), broker
    )
    _, outcome, _ = await run(make_order(Action.CANCEL, ticket=placed.order_ticket), broker)
    assert (outcome.status, outcome.retcode) == (OrderStatus.CANCELLED, 10009)
    assert await broker.orders_get() == ()
    now = datetime.now(UTC)
    history = await broker.history_orders_get(now - timedelta(hours=1), now + timedelta(hours=1))
    (gone,) = [o for o in history if o.ticket == placed.order_ticket]
    assert gone.state == mt5.ORDER_STATE_CANCELED


async def test_a_partial_close_leaves_the_rest_of_the_position_open(broker: Mt5Broker) -> None:
    ticket = await open_position(broker, "buy", "0.10")
    order = make_order(Action.CLOSE, symbol="EURUSD", ticket=ticket, volume="0.04")
    _, outcome, _ = await run(order, broker)
    assert (outcome.status, outcome.retcode, outcome.volume) == (
        OrderStatus.CLOSED,
        10009,
        Decimal("0.04"),
    )
    assert outcome.price == Decimal(str(BID))  # a buy closes at the bid
    (position,) = await broker.positions_get(ticket=ticket)
    assert position.volume == pytest.approx(0.06)
    (deal,) = await deals_of(broker, order_comment(order.order_id, INSTANCE))
    assert (deal.entry, deal.position_id, deal.volume) == (mt5.DEAL_ENTRY_OUT, ticket, 0.04)


async def test_a_full_close_of_a_side_closes_only_that_side(broker: Mt5Broker) -> None:
    await open_position(broker, "buy", "0.10")
    sell = await open_position(broker, "sell", "0.02")
    _, outcome, _ = await run(make_order(Action.CLOSE, symbol="EURUSD", side="long"), broker)
    assert outcome.status is OrderStatus.CLOSED
    assert [p.ticket for p in await broker.positions_get()] == [sell]


async def test_close_by_closes_a_buy_against_a_sell(
    broker: Mt5Broker, terminal: SimTerminal
) -> None:
    """The raw request, as the adapter builds it, sent through the module."""
    buy = await open_position(broker, "buy", "0.10")
    sell = await open_position(broker, "sell", "0.04")
    positions = await broker.positions_get()
    pairs, rest = close_by_plan(positions)
    assert [(a.ticket, b.ticket) for a, b in pairs] == [(buy, sell)]
    assert [p.ticket for p in rest] == [buy] and rest[0].volume == pytest.approx(0.06)
    order = make_order(Action.CLOSE_ALL, symbol="EURUSD")
    request = close_by_request(order, *pairs[0])
    assert terminal.order_check(request).retcode == 0  # type: ignore[union-attr]
    sent = terminal.order_send(request)
    assert sent is not None and (sent.retcode, sent.volume) == (10009, 0.04)
    (left,) = await broker.positions_get()
    assert left.ticket == buy and left.volume == pytest.approx(0.06)
    entries = {d.entry for d in await deals_of(broker, request["comment"])}
    assert entries == {mt5.DEAL_ENTRY_OUT_BY}


async def test_close_all_nets_opposite_positions_by_close_by_then_closes_the_rest(
    broker: Mt5Broker,
) -> None:
    await open_position(broker, "buy", "0.10")
    await open_position(broker, "sell", "0.04")
    await open_position(broker, "sell", "0.03")
    await open_position(broker, "buy", "0.01")
    await run(
        make_order(symbol="EURUSD", order_type="buy_limit", volume="0.05", price="1.38500"), broker
    )
    order = make_order(Action.CLOSE_ALL, symbol="EURUSD")
    _, outcome, _ = await run(order, broker)
    assert outcome.status is OrderStatus.CLOSED and outcome.notes == []
    assert await broker.positions_get() == () and await broker.orders_get() == ()
    deals = await deals_of(broker, order_comment(order.order_id, INSTANCE))
    by = [d for d in deals if d.entry == mt5.DEAL_ENTRY_OUT_BY]
    out = [d for d in deals if d.entry == mt5.DEAL_ENTRY_OUT]
    # 0.10 buy vs 0.04 and 0.03 sells: two close-bys (two deals each); 0.03 + 0.01 left by deals
    assert len(by) == 4 and sum(d.volume for d in by) == pytest.approx(0.14)
    assert sorted(d.volume for d in out) == pytest.approx([0.01, 0.03])


async def test_the_deviation_and_type_time_reach_the_terminal(
    broker: Mt5Broker, terminal: SimTerminal
) -> None:
    order = make_order(symbol="EURUSD", order_type="buy", volume="0.01", deviation=7)
    _, outcome, _ = await run(order, broker, TradingConfig(slippage=7))
    now = datetime.now(UTC)
    (history,) = [
        o
        for o in await broker.history_orders_get(now - timedelta(hours=1), now + timedelta(hours=1))
        if o.ticket == outcome.order_ticket
    ]
    assert (history.type_time, history.magic) == (mt5.ORDER_TIME_GTC, MAGIC)
    assert terminal.account_info().login == LOGIN  # type: ignore[union-attr]
