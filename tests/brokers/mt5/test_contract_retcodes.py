"""Contract: each retcode the simulator answers, as a terminal answers it, and what eaflow makes
of it (result status, retcode name, nothing sent when order_check already refused)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import redis

from brokers.mt5 import constants as mt5
from brokers.mt5.broker import Mt5Broker
from brokers.mt5.retcodes import retcode
from brokers.sim.server import SimServer
from brokers.sim.symbols import SymbolTable, default_symbols
from brokers.sim.terminal import SimTerminal
from brokers.types import BrokerUnavailable
from model import Action, OrderStatus
from processors.executor.outcome import build_result, status_for
from tests.stubs import LOGIN, MAGIC, PREFIX, QUOTES, make_order, run

BID, ASK = QUOTES["EURUSD"]
Request = dict[str, Any]


def deal(**fields: Any) -> Request:
    base = {
        "action": mt5.TRADE_ACTION_DEAL,
        "symbol": "EURUSD",
        "volume": 0.1,
        "type": mt5.ORDER_TYPE_BUY,
        "price": ASK,
        "deviation": 10,
        "magic": MAGIC,
        "comment": "contract",
        "type_filling": mt5.ORDER_FILLING_FOK,
        "type_time": mt5.ORDER_TIME_GTC,
    }
    return {**base, **fields}


def pending(**fields: Any) -> Request:
    limit = {
        "action": mt5.TRADE_ACTION_PENDING,
        "type": mt5.ORDER_TYPE_BUY_LIMIT,
        "price": 1.385,
        "type_filling": mt5.ORDER_FILLING_RETURN,
    }
    return deal(**{**limit, **fields})


def opened(mt5_: SimTerminal, volume: float = 0.1) -> int:
    sent = mt5_.order_send(deal(volume=volume))
    assert sent is not None and sent.retcode == mt5.TRADE_RETCODE_DONE
    return sent.order


# name: (request built against the terminal, expected retcode, action it belongs to)
CASES: dict[str, tuple[Callable[[SimTerminal], Request], int, Action]] = {
    "unknown action": (lambda t: deal(action=99), 10013, Action.OPEN),
    "volume off the step": (lambda t: deal(volume=0.015), 10014, Action.OPEN),
    "volume over the maximum": (lambda t: deal(volume=501.0), 10014, Action.OPEN),
    "limit above the ask": (lambda t: pending(price=1.39), 10015, Action.OPEN),
    "price off the tick size": (lambda t: pending(price=1.385001), 10015, Action.OPEN),
    "buy with the SL above the bid": (lambda t: deal(sl=1.39), 10016, Action.OPEN),
    "buy with the TP below the ask": (lambda t: deal(tp=1.38), 10016, Action.OPEN),
    "margin over the free margin": (lambda t: deal(volume=100.0), 10019, Action.OPEN),
    "no quote yet": (lambda t: deal(symbol="GBPUSD", price=1.6), 10021, Action.OPEN),
    "requote beyond the deviation": (
        lambda t: deal(price=ASK + 0.001, deviation=5),
        10004,
        Action.OPEN,
    ),
    "expiration in the past": (
        lambda t: pending(type_time=mt5.ORDER_TIME_SPECIFIED, expiration=int(time.time()) - 60),
        10022,
        Action.OPEN,
    ),
    "IOC on a FOK-only symbol": (
        lambda t: deal(type_filling=mt5.ORDER_FILLING_IOC),
        10030,
        Action.OPEN,
    ),
    "close of a closed position": (
        lambda t: deal(type=mt5.ORDER_TYPE_SELL, price=BID, position=987_654),
        10036,
        Action.CLOSE,
    ),
    "close volume over the position": (
        lambda t: deal(type=mt5.ORDER_TYPE_SELL, price=BID, position=opened(t, 0.1), volume=0.2),
        10038,
        Action.CLOSE,
    ),
    "SL/TP that change nothing": (
        lambda t: {
            "action": mt5.TRADE_ACTION_SLTP,
            "symbol": "EURUSD",
            "position": opened(t),
            "sl": 0.0,
            "tp": 0.0,
        },
        10025,
        Action.SLTP,
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_the_terminal_answers_each_mistake_with_mt5s_retcode(
    case: str, terminal: SimTerminal, redis_client: redis.Redis
) -> None:
    build, code, action = CASES[case]
    request = build(terminal)
    positions, balance = terminal.positions_get(), terminal.account_info().balance  # type: ignore[union-attr]
    check = terminal.order_check(request)
    assert check is not None and check.retcode == code
    sent = terminal.order_send(request)
    assert sent is not None and sent.retcode == code
    assert (sent.deal, sent.order) == (0, 0)
    assert sent.comment.startswith(retcode(code).comment)
    assert sent.request.action == request["action"]  # the request is echoed, as MT5 does
    assert terminal.positions_get() == positions  # nothing traded
    assert terminal.account_info().balance == balance  # type: ignore[union-attr]
    expected = OrderStatus.FAILED if retcode(code).retryable else OrderStatus.REJECTED
    assert status_for(action, code) is expected


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"volume": "0.015"}, 10014),
        ({"volume": "100"}, 10019),
        ({"stop_loss": "1.39000"}, 10016),
        ({"order_type": "buy_limit", "price": "1.39000"}, 10015),
    ],
)
async def test_the_executor_rejects_what_order_check_refuses_without_sending(
    broker: Mt5Broker, fields: dict[str, str], code: int
) -> None:
    order = make_order(
        Action.OPEN, **{"symbol": "EURUSD", "order_type": "buy", "volume": "0.10", **fields}
    )
    life, outcome, marked = await run(order, broker)
    assert (outcome.status, outcome.retcode, marked) == (OrderStatus.REJECTED, code, 0)
    assert outcome.error is not None and outcome.error.startswith(retcode(code).name)
    result = build_result(order, life, outcome)
    assert (result.retcode, result.retcode_name, result.sent_at) == (code, retcode(code).name, None)


async def test_no_changes_on_sltp_is_a_rejection(broker: Mt5Broker) -> None:
    _, filled, _ = await run(
        make_order(symbol="EURUSD", order_type="buy", volume="0.1", stop_loss="1.38000"), broker
    )
    order = make_order(
        Action.SLTP, symbol="EURUSD", ticket=filled.position_ticket, stop_loss="1.38000"
    )
    _, outcome, _ = await run(order, broker)
    assert (outcome.status, outcome.retcode) == (OrderStatus.REJECTED, 10025)


async def test_a_closed_market_is_a_rejection(broker: Mt5Broker, server: SimServer) -> None:
    server.set_market_open("EURUSD", False)
    _, outcome, marked = await run(
        make_order(symbol="EURUSD", order_type="sell", volume="0.1"), broker
    )
    assert (outcome.status, outcome.retcode, marked) == (OrderStatus.REJECTED, 10018, 0)


async def test_a_lost_trade_server_connection_makes_the_broker_unavailable(
    broker: Mt5Broker, terminal: SimTerminal, server: SimServer
) -> None:
    """10031: the executor waits for the connection instead of failing the order."""
    server.set_connected(LOGIN, False)
    sent = terminal.order_send(deal())
    assert sent is not None and sent.retcode == mt5.TRADE_RETCODE_CONNECTION
    with pytest.raises(BrokerUnavailable):
        await run(make_order(symbol="EURUSD", order_type="buy", volume="0.1"), broker)
    server.set_connected(LOGIN, True)
    _, outcome, _ = await run(make_order(symbol="EURUSD", order_type="buy", volume="0.1"), broker)
    assert outcome.status is OrderStatus.FILLED


@pytest.mark.parametrize(
    ("trade_mode", "order_type", "code"),
    [
        (mt5.SYMBOL_TRADE_MODE_DISABLED, "buy", 10017),
        (mt5.SYMBOL_TRADE_MODE_LONGONLY, "sell", 10042),
        (mt5.SYMBOL_TRADE_MODE_SHORTONLY, "buy", 10043),
        (mt5.SYMBOL_TRADE_MODE_CLOSEONLY, "buy", 10044),
    ],
)
async def test_a_symbols_trade_mode_refuses_opening(
    redis_client: redis.Redis, server: SimServer, trade_mode: int, order_type: str, code: int
) -> None:
    symbols = SymbolTable(
        i._replace(trade_mode=trade_mode) if i.name == "EURUSD" else i for i in default_symbols()
    )
    terminal = SimTerminal(redis_client, prefix=PREFIX, symbols=symbols)
    broker = Mt5Broker(terminal, name="contract-1", login=LOGIN, server="eaflow-sim")
    await broker.connect()
    try:
        order = make_order(symbol="EURUSD", order_type=order_type, volume="0.1")
        _, outcome, marked = await run(order, broker)
    finally:
        await broker.close()
    assert (outcome.status, outcome.retcode, marked) == (OrderStatus.REJECTED, code, 0)


async def test_stops_inside_the_freeze_level_are_frozen(
    redis_client: redis.Redis, server: SimServer, terminal: SimTerminal
) -> None:
    """10029: a position whose SL is within trade_freeze_level points cannot be changed."""
    sent = terminal.order_send(deal(sl=1.38700))  # 42 points under the bid
    assert sent is not None and sent.retcode == 10009
    symbols = SymbolTable(
        i._replace(trade_freeze_level=50) if i.name == "EURUSD" else i for i in default_symbols()
    )
    frozen = SimTerminal(redis_client, prefix=PREFIX, symbols=symbols)
    assert frozen.initialize(login=LOGIN, server="eaflow-sim")
    broker = Mt5Broker(frozen, name="contract-1", login=LOGIN, server="eaflow-sim")
    await broker.connect()
    try:
        order = make_order(Action.SLTP, symbol="EURUSD", ticket=sent.order, stop_loss="1.38600")
        _, outcome, marked = await run(order, broker)
    finally:
        await broker.close()
    assert (outcome.status, outcome.retcode, marked) == (OrderStatus.REJECTED, 10029, 0)
