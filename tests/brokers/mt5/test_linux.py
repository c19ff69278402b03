"""mt5linux: the same adapter over RPyC, against a real server process serving the simulator."""

from __future__ import annotations

import inspect
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis

from brokers.factory import broker_for
from brokers.mt5 import constants as mt5
from brokers.mt5.api import MT5Api
from brokers.mt5.broker import Mt5Broker
from brokers.mt5.linux import LinuxTerminal
from brokers.mt5.records import (
    AccountInfo,
    OrderSendResult,
    SymbolInfo,
    TradeDeal,
    TradePosition,
    TradeRequest,
)
from brokers.sim.server import SimServer
from brokers.sim.terminal import SimTerminal
from brokers.types import BrokerUnavailable
from model import OrderStatus
from model.tick import Tick
from tests.redis_server import free_port
from tests.stubs import LOGIN, MAGIC, PREFIX, make_order, run

ROOT = Path(__file__).parents[3]


class Mt5LinuxServer:
    """`tests/brokers/mt5/mt5linux_server.py` as a child process on a free port."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Mt5LinuxServer:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.brokers.mt5.mt5linux_server",
                self.redis_url,
                PREFIX,
                str(self.port),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the mt5linux test server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def linux_server(redis_url: str, server: SimServer) -> Iterator[Mt5LinuxServer]:
    running = Mt5LinuxServer(redis_url).start()
    yield running
    running.stop()


@pytest.fixture
def linux(linux_server: Mt5LinuxServer) -> Iterator[LinuxTerminal]:
    terminal = LinuxTerminal("127.0.0.1", linux_server.port, timeout=10)
    yield terminal
    terminal.shutdown()


def test_answers_come_back_as_the_packages_record_types(linux: LinuxTerminal) -> None:
    assert linux.initialize(login=LOGIN, server="eaflow-sim")
    assert linux.last_error() == (1, "Success")
    account = linux.account_info()
    assert isinstance(account, AccountInfo) and account.login == LOGIN
    info = linux.symbol_info("EURUSD")
    assert isinstance(info, SymbolInfo) and (info.digits, info.volume_step) == (5, 0.01)
    tick = linux.symbol_info_tick("EURUSD")
    assert isinstance(tick, Tick) and (tick.bid, tick.ask) == (1.38742, 1.38755)
    request = {
        "action": linux.TRADE_ACTION_DEAL,
        "symbol": "EURUSD",
        "volume": 0.1,
        "type": mt5.ORDER_TYPE_BUY,
        "price": tick.ask,
        "deviation": 10,
        "magic": MAGIC,
        "comment": "via mt5linux",
        "type_filling": mt5.ORDER_FILLING_FOK,
    }
    check = linux.order_check(request)
    assert check is not None and check.retcode == 0 and isinstance(check.request, TradeRequest)
    sent = linux.order_send(request)
    assert isinstance(sent, OrderSendResult) and sent.retcode == 10009
    assert isinstance(sent.request, TradeRequest) and sent.request.comment == "via mt5linux"
    (position,) = linux.positions_get(symbol="EURUSD") or ()
    assert isinstance(position, TradePosition) and position.ticket == sent.order
    now = datetime.now(UTC)
    deals = linux.history_deals_get(now - timedelta(hours=1), now + timedelta(hours=1))
    assert deals is not None and all(isinstance(d, TradeDeal) for d in deals)
    assert [d.comment for d in deals if d.position_id == position.ticket] == ["via mt5linux"]
    assert linux.orders_get() == ()


async def test_the_executor_trades_through_mt5linux(linux: LinuxTerminal) -> None:
    broker = Mt5Broker(linux, name="contract-1", login=LOGIN, server="eaflow-sim")
    await broker.connect()
    try:
        order = make_order(symbol="EURUSD", order_type="sell", volume="0.05")
        _, outcome, _ = await run(order, broker)
        assert (outcome.status, outcome.retcode) == (OrderStatus.FILLED, 10009)
        (position,) = await broker.positions_get()
        assert (position.type, position.magic) == (mt5.POSITION_TYPE_SELL, MAGIC)
    finally:
        await broker.close()


async def test_the_mt5_option_sends_an_mt5_instance_to_the_server(
    linux_server: Mt5LinuxServer, redis_url: str
) -> None:
    broker = broker_for(
        "mt5://?server=eaflow-sim",
        "contract-1",
        LOGIN,
        redis_url,
        PREFIX,
        mt5=f"127.0.0.1:{linux_server.port}",
    )
    assert isinstance(broker.module, LinuxTerminal)
    await broker.connect()
    try:
        assert (await broker.account_info()).login == LOGIN  # type: ignore[union-attr]
    finally:
        await broker.close()


async def test_an_unreachable_server_is_mt5s_no_ipc_error_until_it_is_back(
    redis_url: str, server: SimServer
) -> None:
    port = free_port()
    terminal = LinuxTerminal("127.0.0.1", port, timeout=5)
    assert not terminal.initialize(login=LOGIN, server="eaflow-sim")
    code, text = terminal.last_error()
    assert code == mt5.RES_E_INTERNAL_FAIL_CONNECT and f"127.0.0.1:{port}" in text
    broker = Mt5Broker(terminal, name="contract-1", login=LOGIN, server="eaflow-sim")
    with pytest.raises(BrokerUnavailable, match="-10004"):
        await broker.connect()
    late = Mt5LinuxServer(redis_url)
    late.port = port
    late.start()
    try:
        await broker.connect()  # the next initialize() reconnects
        assert await broker.positions_get() == ()
        late.stop()
        with pytest.raises(BrokerUnavailable, match="positions_get failed"):
            await broker.positions_get()  # not (): the terminal is gone, not the positions
    finally:
        late.stop()
        await broker.close()


def test_only_plain_values_are_sent_to_the_server(
    linux: LinuxTerminal, redis_client: redis.Redis
) -> None:
    assert linux.initialize(login=LOGIN, server="eaflow-sim")
    with pytest.raises(TypeError, match="cannot be sent to an mt5linux server"):
        linux.order_check({"action": 1, "symbol": object()})
    with pytest.raises(TypeError, match="cannot be sent"):
        linux.order_check({"action": 1, "price": float("nan")})


def test_every_mt5_function_answers_through_mt5linux_as_the_terminal_it_serves(
    linux: LinuxTerminal, terminal: SimTerminal, redis_client: redis.Redis
) -> None:
    """The client's functions are generated from `MT5Api`: each one, called with the same
    arguments on the client and on a simulator like the one its server serves, answers the
    same value of the same type."""
    request = {
        "action": mt5.TRADE_ACTION_DEAL,
        "symbol": "EURUSD",
        "volume": 0.1,
        "type": mt5.ORDER_TYPE_BUY,
        "magic": MAGIC,
        "type_filling": mt5.ORDER_FILLING_FOK,
    }
    bought = terminal.order_send(request)
    assert bought is not None and bought.retcode == mt5.TRADE_RETCODE_DONE
    limit = {**request, "action": mt5.TRADE_ACTION_PENDING, "type": mt5.ORDER_TYPE_BUY_LIMIT}
    placed = terminal.order_send({**limit, "price": 1.3, "type_filling": mt5.ORDER_FILLING_RETURN})
    assert placed is not None and placed.retcode == mt5.TRADE_RETCODE_PLACED
    now, hour, day = datetime.now(UTC), timedelta(hours=1), timedelta(days=1)
    calls: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
        "initialize": ((), {"login": LOGIN, "server": "eaflow-sim"}),
        "login": ((LOGIN,), {"server": "eaflow-sim"}),
        "last_error": ((), {}),
        "version": ((), {}),
        "account_info": ((), {}),
        "terminal_info": ((), {}),
        "symbols_total": ((), {}),
        "symbols_get": ((), {"group": "*USD*,!XAU*"}),
        "symbol_info": (("EURUSD",), {}),
        "symbol_info_tick": (("EURUSD",), {}),
        "symbol_select": (("USDJPY", True), {}),
        "market_book_add": (("EURUSD",), {}),
        "market_book_get": (("EURUSD",), {}),
        "market_book_release": (("EURUSD",), {}),
        "copy_rates_from": (("EURUSD", mt5.TIMEFRAME_M1, now + hour, 10), {}),
        "copy_rates_from_pos": (("EURUSD", mt5.TIMEFRAME_H1, 0, 10), {}),
        "copy_rates_range": (("EURUSD", mt5.TIMEFRAME_D1, now - 2 * day, now + hour), {}),
        "order_calc_margin": ((mt5.ORDER_TYPE_BUY, "EURUSD", 0.1, 1.38755), {}),
        "order_calc_profit": ((mt5.ORDER_TYPE_SELL, "EURUSD", 0.1, 1.38742, 1.3), {}),
        "order_check": ((request,), {}),
        "order_send": (({**request, "volume": 0.0},), {}),  # refused: the account stays as it is
        "positions_total": ((), {}),
        "positions_get": ((), {"symbol": "EURUSD"}),
        "orders_total": ((), {}),
        "orders_get": ((), {"ticket": placed.order}),
        "history_orders_total": ((now - hour, now + hour), {}),
        "history_orders_get": ((now - hour, now + hour), {}),
        "history_deals_total": ((now - hour, now + hour), {}),
        "history_deals_get": ((), {"position": bought.order}),
        "copy_ticks_from": (("EURUSD", now - hour, 10, mt5.COPY_TICKS_ALL), {}),
        "copy_ticks_range": (("EURUSD", now - hour, now + hour, mt5.COPY_TICKS_INFO), {}),
        "shutdown": ((), {}),
    }
    functions = {n for n, f in vars(MT5Api).items() if inspect.isfunction(f) and n[0] != "_"}
    assert set(calls) == functions
    twin = SimTerminal(redis_client, prefix=PREFIX)  # new, as the server's: request ids from 1
    for name, (args, kwargs) in calls.items():
        served = getattr(twin, name)(*args, **kwargs)
        answer = getattr(linux, name)(*args, **kwargs)
        assert name == "shutdown" or (served is not None and served is not False), name
        assert not isinstance(served, tuple | np.ndarray) or len(served) > 0, name
        assert type(answer) is type(served), name
        if isinstance(served, np.ndarray):
            assert answer.dtype == served.dtype and answer.tolist() == served.tolist()
        else:
            assert answer == served, name
