"""Trade states: a simulated account's trade opened, modified, partly and fully closed, as
the instance manager reports it in `trades`, with the profit of the account's deals."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from brokers.mt5 import constants as mt5
from brokers.sim.store import AccountKeys
from brokers.sim.terminal import SimTerminal
from model import InstanceStatus
from model.trade import TradeEvent, TradeState, TradeStatus
from processors.manager.manager import InstanceManager
from processors.manager.trades import deal_totals
from tests.processors.manager.conftest import CONFIG, PREFIX, Rig
from tests.stubs import quote

TAGGED = "trend#abcdefghijkl"  # an eaflow comment with the strategy tag "trend"


def send(terminal: SimTerminal, **request: Any) -> None:
    sent = terminal.order_send(
        {"type_filling": mt5.ORDER_FILLING_FOK, "deviation": 10, "magic": 5, **request}
    )
    assert sent is not None, terminal.last_error()
    assert sent.retcode == mt5.TRADE_RETCODE_DONE, sent.comment


async def entries(rig: Rig) -> list[TradeState]:
    found: Any = await rig.redis.xrange(f"{PREFIX}trades")
    return [TradeState.model_validate_json(fields[b"d"]) for _, fields in found]


async def running(rig: Rig) -> None:
    await rig.until(lambda: len(rig.manager.sync.last_sync) == 2)


@pytest.fixture
def account(redis_url: str, redis_client: redis.Redis) -> SimTerminal:
    quote(redis_client, "EURUSD", 1.12340, 1.12345)
    terminal = SimTerminal(redis.Redis.from_url(redis_url), prefix=PREFIX)
    assert terminal.initialize(login=6001, server="eaflow-sim")
    return terminal


async def test_a_trade_from_open_to_close(
    rig: Rig, account: SimTerminal, redis_client: redis.Redis
) -> None:
    await running(rig)
    assert await entries(rig) == []
    eurusd = {"symbol": "EURUSD", "comment": TAGGED}
    send(account, action=mt5.TRADE_ACTION_DEAL, volume=0.3, type=mt5.ORDER_TYPE_BUY,
         price=1.12345, sl=1.12, tp=1.125, **eurusd)  # fmt: skip
    [position] = account.positions_get() or ()
    await rig.until(lambda: position.ticket in rig.manager.trades.books.get("a", {}))
    [opened] = await entries(rig)
    assert opened.state_id == f"a:{position.ticket}:1"
    assert (opened.trade_id, opened.instance, opened.event, opened.status) == (
        position.ticket, "a", TradeEvent.OPENED, TradeStatus.OPEN
    )  # fmt: skip
    assert (opened.symbol, opened.side, opened.volume, opened.entry_price) == (
        "EURUSD", "buy", 0.3, 1.12345
    )  # fmt: skip
    assert (opened.stop_loss, opened.take_profit, opened.strategy) == (1.12, 1.125, "trend")
    assert opened.profit == position.profit and opened.realized_profit == 0.0

    send(account, action=mt5.TRADE_ACTION_SLTP, position=position.ticket, sl=1.1215, tp=1.125,
         symbol="EURUSD")  # fmt: skip
    await rig.until(lambda: rig.manager.trades.books["a"][position.ticket].seq == 2)
    modified = (await entries(rig))[-1]
    assert (modified.event, modified.stop_loss, modified.volume) == (
        TradeEvent.MODIFIED, 1.1215, 0.3
    )  # fmt: skip

    quote(redis_client, "EURUSD", 1.12400, 1.12405)
    send(account, action=mt5.TRADE_ACTION_DEAL, volume=0.1, type=mt5.ORDER_TYPE_SELL,
         price=1.12400, position=position.ticket, **eurusd)  # fmt: skip
    await rig.until(lambda: rig.manager.trades.books["a"][position.ticket].seq == 3)
    partial = (await entries(rig))[-1]
    first_close = deal_totals(account.history_deals_get(position=position.ticket) or ())
    assert (partial.event, partial.status, partial.volume, partial.closed_volume) == (
        TradeEvent.PARTIALLY_CLOSED, TradeStatus.OPEN, 0.2, 0.1
    )  # fmt: skip
    assert partial.realized_profit == first_close.realized_profit == pytest.approx(5.5)
    assert partial.close_price == 1.124

    quote(redis_client, "EURUSD", 1.12300, 1.12305)
    send(account, action=mt5.TRADE_ACTION_DEAL, volume=0.2, type=mt5.ORDER_TYPE_SELL,
         price=1.12300, position=position.ticket, **eurusd)  # fmt: skip
    await rig.until(lambda: position.ticket not in rig.manager.trades.books["a"])
    closed = (await entries(rig))[-1]
    deals = account.history_deals_get(position=position.ticket) or ()
    assert len(deals) == 3
    assert closed.state_id == f"a:{position.ticket}:4"
    assert (closed.event, closed.status, closed.close_price) == (
        TradeEvent.CLOSED, TradeStatus.CLOSED, 1.123
    )  # fmt: skip
    assert closed.closed_volume == pytest.approx(0.3)
    assert closed.profit == closed.realized_profit == pytest.approx(sum(d.profit for d in deals))
    assert closed.profit == pytest.approx(5.5 - 9.0)
    assert closed.commission == pytest.approx(sum(d.commission for d in deals))
    assert closed.swap == pytest.approx(sum(d.swap for d in deals))
    assert closed.closed_at is not None and closed.closed_at >= opened.opened_at
    assert (closed.entry_price, closed.strategy, closed.stop_loss) == (1.12345, "trend", 1.1215)
    assert [e.seq for e in await entries(rig)] == [1, 2, 3, 4]
    assert await rig.redis.hget(f"{PREFIX}trades:open", "a") == b"[]"


async def test_a_restarted_manager_neither_repeats_nor_misses_a_trade(
    rig: Rig, account: SimTerminal
) -> None:
    await running(rig)
    send(account, action=mt5.TRADE_ACTION_DEAL, volume=0.1, type=mt5.ORDER_TYPE_BUY,
         price=1.12345, symbol="EURUSD", comment="manual")  # fmt: skip
    [position] = account.positions_get() or ()
    await rig.until(lambda: position.ticket in rig.manager.trades.books.get("a", {}))
    # a new manager (a restart) over the same Redis, while the trade closes
    old = rig.manager
    rig.manager = InstanceManager(old.registry, old.sync, old.slots, config=CONFIG)
    for _ in range(3):
        await rig.manager.cycle()
    assert [e.event for e in await entries(rig)] == [TradeEvent.OPENED]
    send(account, action=mt5.TRADE_ACTION_DEAL, volume=0.1, type=mt5.ORDER_TYPE_SELL,
         price=1.12340, position=position.ticket, symbol="EURUSD")  # fmt: skip
    rig.manager = InstanceManager(old.registry, old.sync, old.slots, config=CONFIG)
    await rig.until(lambda: position.ticket not in rig.manager.trades.books.get("a", {1: 0}))
    found = await entries(rig)
    assert [(e.event, e.seq) for e in found] == [(TradeEvent.OPENED, 1), (TradeEvent.CLOSED, 2)]
    assert found[0].strategy is None  # a comment eaflow did not write carries no tag
    assert found[1].profit == pytest.approx(-0.5)


async def test_a_trade_closed_while_its_broker_was_away_is_reported_once_it_is_back(
    rig: Rig, account: SimTerminal
) -> None:
    await running(rig)
    send(account, action=mt5.TRADE_ACTION_DEAL, volume=0.2, type=mt5.ORDER_TYPE_SELL,
         price=1.12340, symbol="EURUSD", comment=TAGGED)  # fmt: skip
    [position] = account.positions_get() or ()
    await rig.until(lambda: position.ticket in rig.manager.trades.books.get("a", {}))
    send(account, action=mt5.TRADE_ACTION_DEAL, volume=0.2, type=mt5.ORDER_TYPE_BUY,
         price=1.12345, position=position.ticket, symbol="EURUSD")  # fmt: skip
    key = AccountKeys(PREFIX, 6001).account
    saved: Any = rig.sim.redis.dump(key)
    rig.sim.redis.delete(key)  # before the next poll, the trade server loses the account
    await rig.until(lambda: rig.manager.slots["a"].status is InstanceStatus.DEGRADED)
    for _ in range(3):
        await rig.manager.cycle()
    assert [e.event for e in await entries(rig)] == [TradeEvent.OPENED]
    rig.sim.redis.restore(key, 0, saved)
    await rig.until(lambda: position.ticket not in rig.manager.trades.books["a"])
    for _ in range(3):
        await rig.manager.cycle()
    found = await entries(rig)
    assert [(e.event, e.side, e.strategy) for e in found] == [
        (TradeEvent.OPENED, "sell", "trend"),
        (TradeEvent.CLOSED, "sell", "trend"),
    ]
    assert found[1].profit == pytest.approx(-1.0)  # 0.2 lot sold at 1.12340, bought at 1.12345


async def test_a_closed_trade_waits_a_while_for_its_closing_deal(
    rig: Rig, account: SimTerminal
) -> None:
    await running(rig)
    rig.manager.trades.close_wait = 0.5
    send(account, action=mt5.TRADE_ACTION_DEAL, volume=0.1, type=mt5.ORDER_TYPE_BUY,
         price=1.12345, symbol="EURUSD", comment=TAGGED)  # fmt: skip
    [position] = account.positions_get() or ()
    await rig.until(lambda: position.ticket in rig.manager.trades.books.get("a", {}))
    # the position vanishes before any closing deal reaches the history (a slow terminal)
    rig.sim.redis.hdel(AccountKeys(PREFIX, 6001).positions, str(position.ticket))
    assert account.positions_get() == ()
    await rig.manager.cycle()
    assert position.ticket in rig.manager.trades.books["a"]  # not closed yet: no deal to show
    await rig.until(lambda: position.ticket not in rig.manager.trades.books["a"])
    closed = (await entries(rig))[-1]
    assert (closed.event, closed.seq, closed.profit, closed.closed_volume) == (
        TradeEvent.CLOSED, 2, 0.0, 0.0
    )  # fmt: skip
