"""Trading on recorded ticks: SL, TP, pending orders and trailing stops trigger on exactly
the tick MT5 would trigger them on, and not one tick before.

Each case is built from the real EURUSD recording: the expected tick is found by scanning the
recorded prices with MT5's rules, then the ticks are published and applied one by one (as a
live feed would) through `TickAccount` on a simulated account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from itertools import islice
from typing import Any

import pytest
import redis

from brokers.mt5 import constants as mt5
from brokers.sim.server import SimServer
from brokers.sim.symbols import default_symbols
from brokers.sim.terminal import SimTerminal
from model import OrderStatus, Result, TradingConfig, TrailingStop
from model.keys import Keys
from model.tick import Tick, encode_tick
from processors.ticks.accounts import TickAccount
from processors.ticks.recorded import read_ticks, recorded_files

PREFIX = "ea:"
LOGIN = 6_100_001
MAGIC = 4242
POINT = 1e-5
EURUSD = default_symbols().get("EURUSD")


@cache
def recorded() -> tuple[Tick, ...]:
    return tuple(islice(read_ticks(recorded_files()["EURUSD"]), 30_000))


def first(start: int, hit: Callable[[Tick], bool]) -> int:
    """Index of the first recorded tick after `start` for which `hit` holds."""
    ticks = recorded()
    return next(i for i in range(start + 1, len(ticks)) if hit(ticks[i]))


class Market:
    """Publishes recorded ticks to the stream (the sim's quotes) and applies them."""

    def __init__(self, client: redis.Redis, account: TickAccount) -> None:
        self.client = client
        self.account = account
        self.results: list[tuple[int, Result]] = []

    def publish(self, index: int) -> Tick:
        tick = recorded()[index]
        self.client.xadd(Keys(PREFIX).ticks("EURUSD"), {"d": encode_tick(tick)})
        return tick

    def run(self, start: int, stop: int) -> None:
        """Ticks `start..stop-1`, one at a time, as a live feed delivers them."""
        for index in range(start, stop):
            tick = self.publish(index)
            self.results += [(index, r) for r in self.account.apply("EURUSD", [tick])]

    def run_batch(self, start: int, stop: int) -> None:
        """Ticks `start..stop-1` published at once and applied as one batch, as the agent
        does when it is behind; results carry the batch's first index."""
        pipe = self.client.pipeline(transaction=False)
        for tick in recorded()[start:stop]:
            pipe.xadd(Keys(PREFIX).ticks("EURUSD"), {"d": encode_tick(tick)})
        pipe.execute()
        batch = list(recorded()[start:stop])
        self.results += [(start, r) for r in self.account.apply("EURUSD", batch)]


@pytest.fixture
def terminal(redis_client: redis.Redis) -> Iterator[SimTerminal]:
    SimServer(redis_client, prefix=PREFIX).open_account(LOGIN, balance=10_000, leverage=100)
    terminal = SimTerminal(redis_client, prefix=PREFIX)
    assert terminal.initialize(login=LOGIN, server="eaflow-sim")
    yield terminal
    terminal.shutdown()


def market(client: redis.Redis, terminal: SimTerminal, trailing: TrailingStop) -> Market:
    config = TradingConfig(trailing_stop=trailing)
    return Market(client, TickAccount("acc", terminal, config, MAGIC, terminal.on_tick))


def send(terminal: SimTerminal, **request: Any) -> int:
    sent = terminal.order_send({
        "symbol": "EURUSD", "volume": 0.1, "magic": MAGIC,
        "type_filling": mt5.ORDER_FILLING_FOK, **request,
    })  # fmt: skip
    assert sent is not None, terminal.last_error()
    assert sent.retcode in (mt5.TRADE_RETCODE_DONE, mt5.TRADE_RETCODE_PLACED), sent.comment
    return int(sent.order)


OPEN = 10_000  # the recorded tick the cases start on (a calm rise, then a fall)


def test_a_buy_stop_loss_closes_on_the_first_bid_at_or_below_it(
    redis_client: redis.Redis, terminal: SimTerminal
) -> None:
    m = market(redis_client, terminal, TrailingStop())
    entry = m.publish(OPEN)
    sl = round(entry.bid - 80 * POINT, 5)
    ticket = send(terminal, action=mt5.TRADE_ACTION_DEAL, type=mt5.ORDER_TYPE_BUY, sl=sl)
    hit = first(OPEN, lambda t: t.bid <= sl)
    m.run_batch(OPEN + 1, hit)
    assert terminal.positions_get(ticket=ticket), "closed before the SL was reached"
    m.run(hit, hit + 1)
    assert not terminal.positions_get(ticket=ticket)
    ((index, result),) = m.results
    assert index == hit
    assert (result.status, result.source, result.position_ticket) == (
        OrderStatus.CLOSED, "sl", ticket,
    )  # fmt: skip
    assert float(result.price or 0) == recorded()[hit].bid


def test_a_sell_take_profit_closes_on_the_first_ask_at_or_below_it(
    redis_client: redis.Redis, terminal: SimTerminal
) -> None:
    m = market(redis_client, terminal, TrailingStop())
    entry = m.publish(OPEN)
    tp = round(entry.ask - 60 * POINT, 5)
    ticket = send(terminal, action=mt5.TRADE_ACTION_DEAL, type=mt5.ORDER_TYPE_SELL, tp=tp)
    hit = first(OPEN, lambda t: t.ask <= tp)
    m.run_batch(OPEN + 1, hit)
    assert terminal.positions_get(ticket=ticket)
    m.run(hit, hit + 1)
    ((index, result),) = m.results
    assert (index, result.source, float(result.price or 0)) == (hit, "tp", recorded()[hit].ask)
    assert not terminal.positions_get(ticket=ticket)


@pytest.mark.parametrize(
    ("order_type", "offset", "side", "triggers"),
    [
        (mt5.ORDER_TYPE_BUY_LIMIT, -40, "ask", lambda t, p: t.ask <= p),
        (mt5.ORDER_TYPE_SELL_LIMIT, 40, "bid", lambda t, p: t.bid >= p),
        (mt5.ORDER_TYPE_BUY_STOP, 40, "ask", lambda t, p: t.ask >= p),
        (mt5.ORDER_TYPE_SELL_STOP, -40, "bid", lambda t, p: t.bid <= p),
    ],
)
def test_a_pending_order_fills_on_the_first_tick_that_crosses_its_price(
    redis_client: redis.Redis,
    terminal: SimTerminal,
    order_type: int,
    offset: int,
    side: str,
    triggers: Callable[[Tick, float], bool],
) -> None:
    m = market(redis_client, terminal, TrailingStop())
    entry = m.publish(OPEN)
    price = round(getattr(entry, side) + offset * POINT, 5)
    ticket = send(terminal, action=mt5.TRADE_ACTION_PENDING, type=order_type, price=price)
    hit = first(OPEN, lambda t: triggers(t, price))
    m.run_batch(OPEN + 1, hit)
    assert terminal.orders_get(ticket=ticket), "filled before its price was reached"
    m.run(hit, hit + 1)
    assert not terminal.orders_get(ticket=ticket)
    ((index, result),) = m.results
    assert (index, result.status, result.order_ticket) == (hit, OrderStatus.FILLED, ticket)
    assert float(result.price or 0) == getattr(recorded()[hit], side)


def test_a_buy_stop_limit_becomes_a_limit_and_fills_at_its_limit_price_or_better(
    redis_client: redis.Redis, terminal: SimTerminal
) -> None:
    m = market(redis_client, terminal, TrailingStop())
    entry = m.publish(OPEN)
    price, limit = round(entry.ask + 30 * POINT, 5), round(entry.ask + 10 * POINT, 5)
    ticket = send(
        terminal, action=mt5.TRADE_ACTION_PENDING, type=mt5.ORDER_TYPE_BUY_STOP_LIMIT,
        price=price, stoplimit=limit,
    )  # fmt: skip
    stop = first(OPEN, lambda t: t.ask >= price)
    fill = stop if recorded()[stop].ask <= limit else first(stop, lambda t: t.ask <= limit)
    m.run_batch(OPEN + 1, fill)
    assert not any(r.status is OrderStatus.FILLED for _, r in m.results)
    m.run(fill, fill + 1)
    ((index, result),) = m.results
    assert (index, result.status, result.order_ticket) == (fill, OrderStatus.FILLED, ticket)
    assert float(result.price or 0) == recorded()[fill].ask <= limit


def expected_trail(
    start: int, entry: float, distance: int, step: int
) -> tuple[list[tuple[int, float]], int]:
    """MT5's trailing stop on a buy opened at `entry`, over the recording: the (tick, SL)
    moves and the tick that finally hits the SL. The server checks the SL before the
    terminal moves it, on every tick."""
    moves: list[tuple[int, float]] = []
    sl = 0.0
    for i, tick in enumerate(recorded()[start + 1 :], start + 1):
        if sl and tick.bid <= sl:
            return moves, i
        if round((tick.bid - entry) / POINT) >= distance:
            candidate = round(tick.bid - distance * POINT, 5)
            if not sl or round((candidate - sl) / POINT) >= step:
                sl = candidate
                moves.append((i, sl))
    raise AssertionError("the recording never hits the trailed SL")


def test_a_trailing_stop_follows_the_bid_and_closes_on_the_exact_tick(
    redis_client: redis.Redis, terminal: SimTerminal
) -> None:
    distance, step = 20, 5
    m = market(redis_client, terminal, TrailingStop(enabled=True, distance=distance, step=step))
    entry = m.publish(OPEN)
    ticket = send(terminal, action=mt5.TRADE_ACTION_DEAL, type=mt5.ORDER_TYPE_BUY)
    moves, hit = expected_trail(OPEN, entry.ask, distance, step)
    assert len(moves) >= 3  # the case exercises several moves
    m.run(OPEN + 1, hit + 1)
    sl_moves = [(i, float(r.price or 0)) for i, r in m.results if r.status is OrderStatus.MODIFIED]
    assert sl_moves == moves
    closes = [(i, r.source) for i, r in m.results if r.status is OrderStatus.CLOSED]
    assert closes == [(hit, "sl")]
    ids = [r.result_id for _, r in m.results]
    assert len(set(ids)) == len(ids)
    assert not terminal.positions_get(ticket=ticket)


def test_break_even_moves_the_sl_once_past_the_trigger(
    redis_client: redis.Redis, terminal: SimTerminal
) -> None:
    trailing = TrailingStop(enabled=True, breakeven_trigger=30, breakeven_offset=5)
    m = market(redis_client, terminal, trailing)
    entry = m.publish(OPEN)
    ticket = send(terminal, action=mt5.TRADE_ACTION_DEAL, type=mt5.ORDER_TYPE_SELL)
    trigger = first(OPEN, lambda t: round((entry.bid - t.ask) / POINT) >= 30)
    breakeven = round(entry.bid - 5 * POINT, 5)
    hit = first(trigger, lambda t: t.ask >= breakeven)
    m.run_batch(OPEN + 1, trigger)  # nothing to do before the trigger, nor after the move
    m.run(trigger, trigger + 1)
    m.run_batch(trigger + 1, hit)
    m.run(hit, hit + 1)
    assert [(i, r.status, r.source) for i, r in m.results] == [
        (trigger, OrderStatus.MODIFIED, "breakeven"),
        (hit, OrderStatus.CLOSED, "sl"),
    ]
    assert float(m.results[0][1].price or 0) == breakeven
    assert not terminal.positions_get(ticket=ticket)


def test_positions_of_other_experts_are_not_trailed(
    redis_client: redis.Redis, terminal: SimTerminal
) -> None:
    m = market(redis_client, terminal, TrailingStop(enabled=True, distance=10))
    m.publish(OPEN)
    ticket = send(terminal, action=mt5.TRADE_ACTION_DEAL, type=mt5.ORDER_TYPE_BUY, magic=1)
    m.run(OPEN + 1, OPEN + 400)
    assert m.results == []
    (position,) = terminal.positions_get(ticket=ticket) or ()
    assert position.sl == 0.0
