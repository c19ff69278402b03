"""Reconciliation: orders a crash left `sent` end with exactly one result; strangers are noted."""

from __future__ import annotations

from typing import Any

import orjson
import redis

from brokers.mt5 import constants as mt5
from brokers.mt5.broker import Mt5Broker
from brokers.mt5.records import SymbolInfo
from brokers.mt5.requests import (
    modify_request,
    open_request,
    order_comment,
    remove_request,
    sltp_request,
)
from brokers.sim.terminal import SimTerminal
from model import Action, Order, OrderStatus, Result
from model.tick import Tick
from processors.executor.reconcile import Reconciler
from processors.executor.records import OrderRecords
from tests.stubs import INSTANCE, MAGIC, PREFIX, make_order


def entries(client: redis.Redis, stream: str) -> list[bytes]:
    found: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(f"{PREFIX}{stream}")  # type: ignore[assignment]
    return [fields[b"d"] for _, fields in found]


def results(client: redis.Redis) -> list[Result]:
    return [Result.model_validate_json(raw) for raw in entries(client, "rtrs")]


def ris(client: redis.Redis) -> list[dict[str, Any]]:
    return [orjson.loads(raw) for raw in entries(client, "ris")]


def dead_worker(records: OrderRecords) -> OrderRecords:
    """The records of another executor process, one that died: its orders are reconciled."""
    return OrderRecords(records.redis, records.prefix)


async def crash_after_send(order: Order, records: OrderRecords, terminal: SimTerminal) -> int:
    """What a worker killed between order_send and its ack leaves behind; the order ticket."""
    await dead_worker(records).mark_sent(order)
    assert order.symbol is not None
    info, tick = terminal.symbol_info(order.symbol), terminal.symbol_info_tick(order.symbol)
    assert info is not None and tick is not None
    sent = terminal.order_send(open_request(order, info, tick))
    assert sent is not None and sent.retcode in (10008, 10009)
    return sent.order


async def test_an_order_executed_before_a_crash_gets_its_one_result(
    reconciler: Reconciler,
    records: OrderRecords,
    broker: Mt5Broker,
    terminal: SimTerminal,
    redis_client: redis.Redis,
) -> None:
    order = make_order(symbol="EURUSD", order_type="buy", volume="0.10")
    ticket = await crash_after_send(order, records, terminal)
    report = await reconciler.run(INSTANCE, broker, MAGIC)
    (result,) = report.resolved
    assert (result.order_id, result.status, result.retcode) == (
        order.order_id,
        OrderStatus.FILLED,
        10009,
    )
    assert (result.order_ticket, result.position_ticket) == (ticket, ticket)
    assert result.sent_at is not None and result.done_at >= result.sent_at
    assert results(redis_client) == [result]
    assert await records.status(order) is OrderStatus.FILLED
    assert await records.in_flight(INSTANCE) == []
    assert report.external == {}  # the position is ours: magic and comment match
    again = await reconciler.run(INSTANCE, broker, MAGIC)
    assert again.resolved == [] and len(results(redis_client)) == 1


async def test_a_pending_order_placed_before_a_crash_is_placed(
    reconciler: Reconciler,
    records: OrderRecords,
    broker: Mt5Broker,
    terminal: SimTerminal,
    redis_client: redis.Redis,
) -> None:
    order = make_order(symbol="EURUSD", order_type="sell_limit", volume="0.05", price="1.39000")
    ticket = await crash_after_send(order, records, terminal)
    (result,) = (await reconciler.run(INSTANCE, broker, MAGIC)).resolved
    assert (result.status, result.order_ticket) == (OrderStatus.PLACED, ticket)


async def test_an_order_the_terminal_never_got_is_left_to_the_redelivery(
    reconciler: Reconciler,
    records: OrderRecords,
    broker: Mt5Broker,
    redis_client: redis.Redis,
) -> None:
    order = make_order(symbol="EURUSD", order_type="buy", volume="0.10")
    await dead_worker(records).mark_sent(order)  # killed before order_send: nothing executed
    report = await reconciler.run(INSTANCE, broker, MAGIC)
    assert (report.resolved, report.unresolved) == ([], [order.order_id])
    assert results(redis_client) == []
    assert await records.status(order) is OrderStatus.SENT


async def test_the_order_an_executor_is_handling_is_skipped(
    reconciler: Reconciler,
    records: OrderRecords,
    broker: Mt5Broker,
    terminal: SimTerminal,
    redis_client: redis.Redis,
) -> None:
    order = make_order(symbol="EURUSD", order_type="buy", volume="0.10")
    await crash_after_send(order, records, terminal)
    report = await reconciler.run(INSTANCE, broker, MAGIC, skip={order.order_id})
    assert report.resolved == [] and report.unresolved == []
    assert results(redis_client) == [] and await records.status(order) is OrderStatus.SENT


async def test_orders_this_process_marked_sent_are_left_to_its_executor(
    reconciler: Reconciler,
    records: OrderRecords,
    broker: Mt5Broker,
    terminal: SimTerminal,
    redis_client: redis.Redis,
) -> None:
    """Sent by the live executor whose batch is not committed yet: its result comes with
    the commit, so a reconcile (after a reconnect) must not write one too."""
    order = make_order(symbol="EURUSD", order_type="buy", volume="0.10")
    await records.mark_sent(order)
    sent = terminal.order_send(open_request(order, *quoted(terminal, "EURUSD")))
    assert sent is not None and sent.retcode == 10009
    report = await reconciler.run(INSTANCE, broker, MAGIC)
    assert report.resolved == [] and report.unresolved == []
    assert results(redis_client) == [] and await records.status(order) is OrderStatus.SENT
    assert [s.holder for s in await records.in_flight(INSTANCE)] == [records.holder]


def quoted(terminal: SimTerminal, symbol: str) -> tuple[SymbolInfo, Tick]:
    info, tick = terminal.symbol_info(symbol), terminal.symbol_info_tick(symbol)
    assert info is not None and tick is not None
    return info, tick


async def test_a_record_finished_meanwhile_is_not_finished_twice(
    reconciler: Reconciler,
    records: OrderRecords,
    broker: Mt5Broker,
    terminal: SimTerminal,
    redis_client: redis.Redis,
) -> None:
    order = make_order(symbol="EURUSD", order_type="buy", volume="0.10")
    await crash_after_send(order, records, terminal)
    redis_client.hset(records.keys.order_records(INSTANCE), order.order_id, "filled")
    report = await reconciler.run(INSTANCE, broker, MAGIC)
    assert report.resolved == [] and results(redis_client) == []
    assert await records.in_flight(INSTANCE) == []


async def test_positions_and_orders_of_others_are_external_and_announced_once(
    reconciler: Reconciler,
    records: OrderRecords,
    broker: Mt5Broker,
    terminal: SimTerminal,
    redis_client: redis.Redis,
) -> None:
    ours = make_order(symbol="EURUSD", order_type="buy", volume="0.10")
    await crash_after_send(ours, records, terminal)
    manual = terminal.order_send(
        {
            "action": mt5.TRADE_ACTION_DEAL,
            "symbol": "XAUUSD",
            "volume": 0.02,
            "type": mt5.ORDER_TYPE_SELL,
            "price": 1289.056,
            "type_filling": mt5.ORDER_FILLING_FOK,
            "comment": "by hand",
        }
    )
    other_ea = terminal.order_send(
        {
            "action": mt5.TRADE_ACTION_PENDING,
            "symbol": "EURUSD",
            "volume": 0.01,
            "type": mt5.ORDER_TYPE_BUY_LIMIT,
            "price": 1.38,
            "magic": 777,
            "comment": order_comment(ours.order_id, INSTANCE),  # our comment, another magic
            "type_filling": mt5.ORDER_FILLING_RETURN,
        }
    )
    assert manual is not None and other_ea is not None
    report = await reconciler.run(INSTANCE, broker, MAGIC)
    assert set(report.external) == {f"position:{manual.order}", f"order:{other_ea.order}"}
    stored = redis_client.hgetall(reconciler.external_key(INSTANCE))
    position = orjson.loads(stored[f"position:{manual.order}".encode()])
    assert (position["symbol"], position["volume"], position["comment"]) == (
        "XAUUSD",
        0.02,
        "by hand",
    )
    events = ris(redis_client)
    assert sorted(e["ticket"] for e in events) == sorted([manual.order, other_ea.order])
    assert {e["event"] for e in events} == {"external_found"}
    await reconciler.run(INSTANCE, broker, MAGIC)
    assert len(ris(redis_client)) == 2  # already known: not announced again
    closed = terminal.order_send(
        {
            "action": mt5.TRADE_ACTION_DEAL,
            "symbol": "XAUUSD",
            "volume": 0.02,
            "type": mt5.ORDER_TYPE_BUY,
            "price": 1290.606,
            "position": manual.order,
            "type_filling": mt5.ORDER_FILLING_FOK,
        }
    )
    assert closed is not None and closed.retcode == 10009
    report = await reconciler.run(INSTANCE, broker, MAGIC)
    assert set(report.external) == {f"order:{other_ea.order}"}
    assert set(redis_client.hkeys(reconciler.external_key(INSTANCE))) == {
        f"order:{other_ea.order}".encode()
    }


async def test_changes_applied_before_a_crash_are_recognised_by_the_accounts_state(
    reconciler: Reconciler,
    records: OrderRecords,
    broker: Mt5Broker,
    terminal: SimTerminal,
    redis_client: redis.Redis,
) -> None:
    """SL/TP, modify and cancel leave no deal with our comment: the account shows them."""
    buy = make_order(symbol="EURUSD", order_type="buy", volume="0.10")
    limit = make_order(symbol="EURUSD", order_type="buy_limit", volume="0.05", price="1.38500")
    stop = make_order(symbol="EURUSD", order_type="sell_stop", volume="0.05", price="1.38400")
    position, first, second = [
        await crash_after_send(o, records, terminal) for o in (buy, limit, stop)
    ]
    await reconciler.run(INSTANCE, broker, MAGIC)
    (held,) = terminal.positions_get(ticket=position) or ()
    (resting,) = terminal.orders_get(ticket=first) or ()
    (doomed,) = terminal.orders_get(ticket=second) or ()
    sltp = make_order(Action.SLTP, symbol="EURUSD", ticket=position, stop_loss="1.38000")
    modify = make_order(Action.MODIFY, symbol="EURUSD", ticket=first, price="1.38300")
    cancel = make_order(Action.CANCEL, ticket=second)
    never = make_order(Action.SLTP, symbol="EURUSD", ticket=position, take_profit="1.40000")
    for change, request in (
        (sltp, sltp_request(sltp, held)),
        (modify, modify_request(modify, resting)),
        (cancel, remove_request(cancel, doomed)),
    ):
        await dead_worker(records).mark_sent(change)
        sent = terminal.order_send(request)
        assert sent is not None and sent.retcode == 10009
    await dead_worker(records).mark_sent(never)  # killed before order_send: no TP there
    report = await reconciler.run(INSTANCE, broker, MAGIC)
    statuses = {r.order_id: r.status for r in report.resolved}
    assert statuses == {
        sltp.order_id: OrderStatus.MODIFIED,
        modify.order_id: OrderStatus.MODIFIED,
        cancel.order_id: OrderStatus.CANCELLED,
    }
    assert report.unresolved == [never.order_id]
    assert len(results(redis_client)) == 6  # three opens, three changes: one result each
