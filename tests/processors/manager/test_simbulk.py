"""Simulated accounts read in bulk equal what their terminals answer one by one."""

from __future__ import annotations

from typing import Any

import redis

from brokers.mt5 import constants as mt5
from brokers.mt5.broker import Mt5Broker
from brokers.sim.server import SimServer
from brokers.sim.store import AccountKeys, AccountMissing
from brokers.sim.terminal import SimTerminal
from model import AccountState
from processors.manager.simbulk import SimAccounts
from processors.manager.state_sync import snapshot
from tests.stubs import PREFIX, quote


def trade(terminal: SimTerminal, **request: Any) -> None:
    info = terminal.symbol_info(request["symbol"])
    assert info is not None
    filling = mt5.ORDER_FILLING_FOK if info.filling_mode & 1 else mt5.ORDER_FILLING_IOC
    if request["action"] == mt5.TRADE_ACTION_PENDING:
        filling = mt5.ORDER_FILLING_RETURN
    sent = terminal.order_send(
        {"type_filling": filling, "deviation": 10, "magic": 5, "comment": "bulk", **request}
    )
    assert sent is not None, terminal.last_error()
    assert sent.retcode in (mt5.TRADE_RETCODE_DONE, mt5.TRADE_RETCODE_PLACED), sent.comment


def same(bulk: AccountState, one: AccountState) -> bool:
    return bulk.model_copy(update={"ts": 0.0}) == one.model_copy(update={"ts": 0.0})


async def test_bulk_states_equal_the_terminals_answers(
    redis_url: str, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", 1.38742, 1.38755)
    quote(redis_client, "USDJPY", 86.655, 86.728)
    server = SimServer(redis_client, prefix=PREFIX)
    for login, currency in ((101, "USD"), (102, "EUR"), (103, "USD")):
        server.open_account(login, balance=10_000, currency=currency)
    busy = SimTerminal(redis.Redis.from_url(redis_url), prefix=PREFIX)
    assert busy.initialize(login=101, server="eaflow-sim")
    trade(
        busy,
        action=mt5.TRADE_ACTION_DEAL,
        symbol="EURUSD",
        volume=0.3,
        type=mt5.ORDER_TYPE_BUY,
        price=1.38755,
    )
    trade(
        busy,
        action=mt5.TRADE_ACTION_DEAL,
        symbol="USDJPY",
        volume=0.1,
        type=mt5.ORDER_TYPE_SELL,
        price=86.655,
    )
    trade(
        busy,
        action=mt5.TRADE_ACTION_PENDING,
        symbol="EURUSD",
        volume=0.1,
        type=mt5.ORDER_TYPE_BUY_LIMIT,
        price=1.38,
    )
    euro = SimTerminal(redis.Redis.from_url(redis_url), prefix=PREFIX)
    assert euro.initialize(login=102, server="eaflow-sim")
    trade(
        euro,
        action=mt5.TRADE_ACTION_DEAL,
        symbol="USDJPY",
        volume=0.2,
        type=mt5.ORDER_TYPE_BUY,
        price=86.728,
    )
    quote(redis_client, "EURUSD", 1.38801, 1.38814)  # prices move: equity with them
    quote(redis_client, "USDJPY", 86.701, 86.774)

    bulk = SimAccounts(redis_url, PREFIX)
    logins = {"busy": 101, "euro": 102, "flat": 103}
    answers = await bulk.read(logins)
    for instance, login in logins.items():
        broker = Mt5Broker(
            SimTerminal(redis.Redis.from_url(redis_url), prefix=PREFIX),
            name=instance,
            login=login,
            server="eaflow-sim",
        )
        await broker.connect()
        one = await snapshot(instance, broker)
        await broker.close()
        found = answers[instance]
        assert isinstance(found, AccountState) and one is not None
        assert same(found, one), instance
    busy_state = answers["busy"]
    assert isinstance(busy_state, AccountState)
    assert (len(busy_state.positions), len(busy_state.orders)) == (2, 1)
    assert busy_state.equity != busy_state.balance

    again = await bulk.read(logins)  # unchanged flat accounts are not valued again, only re-stamped
    flat = again["flat"]
    assert isinstance(flat, AccountState) and same(flat, answers["flat"])  # type: ignore[arg-type]
    redis_client.delete(AccountKeys(PREFIX, 103).account)
    redis_client.hset(AccountKeys(PREFIX, 102).account, "leverage", "many")
    broken = await bulk.read(logins)
    assert isinstance(broken["flat"], AccountMissing)
    assert isinstance(broken["euro"], ValueError)
    assert isinstance(broken["busy"], AccountState)
    await bulk.close()
