"""Accounts in Redis: they survive a new terminal, and concurrent writers lose no update."""

from __future__ import annotations

import threading

import pytest
import redis

from brokers.sim.store import COMMIT, AccountKeys, Conflict, commit, load, writes
from brokers.sim.symbols import default_symbols
from brokers.sim.terminal import SimTerminal
from tests.brokers.sim.conftest import (
    EURUSD_OPEN,
    EURUSD_RISE,
    LOGIN,
    PREFIX,
    account,
    buy,
    make_tick,
    quote,
    sell,
)


def test_keys_live_under_the_prefix() -> None:
    keys = AccountKeys("ea:", 42)
    assert keys.all == [
        "ea:sim:acct:42",
        "ea:sim:pos:42",
        "ea:sim:ord:42",
        "ea:sim:deals:42",
        "ea:sim:horders:42",
        "ea:sim:watch:42",
    ]
    assert (keys.tickets, keys.closed) == ("ea:sim:tickets", "ea:sim:closed")


def test_a_new_terminal_finds_the_account_as_it_was(
    mt5: SimTerminal, redis_url: str, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    opened = mt5.order_send(buy(mt5, "EURUSD", 0.2, sl=1.38, magic=5, comment="before crash"))
    placed = mt5.order_send(
        {
            "action": mt5.TRADE_ACTION_PENDING,
            "symbol": "EURUSD",
            "volume": 0.1,
            "type": mt5.ORDER_TYPE_SELL_LIMIT,
            "price": 1.39,
            "type_filling": mt5.ORDER_FILLING_RETURN,
        }
    )
    assert opened is not None and placed is not None
    assert mt5.order_send(sell(mt5, "EURUSD", 0.1, position=opened.order)) is not None
    before = (
        mt5.account_info(),
        mt5.positions_get(),
        mt5.orders_get(),
        mt5.history_deals_get(0, 2**31),
    )

    restarted = SimTerminal(redis.Redis.from_url(redis_url), prefix=PREFIX)
    assert restarted.initialize(login=LOGIN, server="eaflow-sim")
    after = (
        restarted.account_info(),
        restarted.positions_get(),
        restarted.orders_get(),
        restarted.history_deals_get(0, 2**31),
    )
    assert after == before
    (position,) = after[1] or ()
    assert (position.volume, position.magic, position.comment) == (0.1, 5, "before crash")
    # and it keeps trading where the other left off
    later = restarted.order_send(sell(restarted, "EURUSD", 0.1, position=opened.order))
    assert later is not None and later.retcode == 10009
    assert later.order > placed.order


def test_a_stale_commit_writes_nothing(mt5: SimTerminal, redis_client: redis.Redis) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    keys = AccountKeys(PREFIX, LOGIN)
    stale = load(redis_client, keys, default_symbols(), ["EURUSD"])
    assert mt5.order_send(buy(mt5, "EURUSD", 0.1)) is not None  # bumps the version
    stale.account.balance = 1.0
    stale.balance_changed = True
    script = redis_client.register_script(COMMIT)
    with pytest.raises(Conflict):
        commit(script, keys, stale.account.version, writes(stale, keys))
    assert account(mt5).balance == 10_000.0


def test_concurrent_terminals_lose_no_order(
    redis_url: str, mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    threads, orders = 4, 15
    tickets: list[int] = []
    failures: list[object] = []

    def trade() -> None:
        own = SimTerminal(redis.Redis.from_url(redis_url), prefix=PREFIX)
        own.initialize(login=LOGIN)
        for _ in range(orders):
            result = own.order_send(buy(own, "EURUSD", 0.01))
            if result is None or result.retcode != 10009:
                failures.append(result)
            else:
                tickets.append(result.order)

    workers = [threading.Thread(target=trade) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    positions = mt5.positions_get() or ()
    assert sorted(p.ticket for p in positions) == sorted(tickets)
    assert len(set(tickets)) == threads * orders
    deals = mt5.history_deals_get(0, 2**31) or ()
    assert len(deals) == 1 + threads * orders  # the deposit and one deal per order


def test_ticks_and_orders_racing_keep_the_balance_equal_to_the_deals(
    redis_url: str, mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    """SL/TP closes from the tick worker race new orders; every profit lands in the balance."""
    quote(redis_client, "EURUSD", EURUSD_RISE[0])
    done = threading.Event()

    def send() -> None:
        own = SimTerminal(redis.Redis.from_url(redis_url), prefix=PREFIX)
        own.initialize(login=LOGIN)
        for _ in range(20):
            own.order_send(buy(own, "EURUSD", 0.01, tp=1.39475))
        done.set()

    def tick() -> None:
        own = SimTerminal(redis.Redis.from_url(redis_url), prefix=PREFIX)
        own.initialize(login=LOGIN)
        crossing = make_tick(EURUSD_RISE[5])  # bid 1.39475: every TP is hit
        while not done.is_set():
            own.on_tick("EURUSD", crossing)
        own.on_tick("EURUSD", crossing)

    workers = [threading.Thread(target=send), threading.Thread(target=tick)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    deals = mt5.history_deals_get(0, 2**31) or ()
    assert mt5.positions_get() == ()
    closes = [d for d in deals if d.entry == mt5.DEAL_ENTRY_OUT]
    assert len(closes) == 20 and all(d.reason == mt5.DEAL_REASON_TP for d in closes)
    # each 0.01 lot bought at 1.39473 closes at 1.39475: 0.02 USD
    assert account(mt5).balance == pytest.approx(10_000 + sum(d.profit for d in closes))
    assert sum(d.profit for d in closes) == pytest.approx(0.4)
