"""Reconcile an instance's order records with its terminal, at start and after a reconnect.

A crash between `order_send` and the ack leaves an order recorded `sent` with no result. If the
terminal has it (a deal or a pending order carrying the order's comment, or for SL/TP changes,
modifications and cancels the account in the state asked for), its result is written
to `rtrs` and the record made terminal in ONE transaction, so the redelivered stream entry is
skipped and the signal keeps exactly one result. An order the terminal does not have is left
to the redelivery, which sends it (nothing was executed). Positions and pending orders that
are not ours (another magic, or a comment we never sent) are recorded as external in
`{prefix}external:{instance}` (field `position:<ticket>` / `order:<ticket>` → JSON), and
each one seen for the first time is announced in `ris`.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field

import orjson
import structlog
from redis.asyncio import Redis
from redis.exceptions import WatchError

from brokers.mt5.records import TradeOrder, TradePosition
from brokers.types import Broker
from model import OrderLifecycle, OrderStatus, Result
from model.topics import Topics
from processors.executor.applied import find_applied
from processors.executor.execute import find_on_broker
from processors.executor.outcome import build_result
from processors.executor.records import OrderRecords, SentOrder

log = structlog.get_logger(__name__)


@dataclass
class Reconciliation:
    """What one reconciliation of one instance found and did."""

    instance: str
    resolved: list[Result] = field(default_factory=list)  # sent orders found: results written
    unresolved: list[str] = field(default_factory=list)  # sent orders not on the terminal
    external: dict[str, dict[str, object]] = field(default_factory=dict)
    new_external: list[str] = field(default_factory=list)


class Reconciler:
    """Matches a terminal's positions, pending orders and deals to our order records."""

    def __init__(self, topics: Topics, redis: Redis, records: OrderRecords) -> None:
        self.topics = topics
        self.redis = redis
        self.records = records

    def external_key(self, instance: str) -> str:
        return self.topics.keys.external(instance)

    async def run(
        self, instance: str, broker: Broker, magic: int, skip: Collection[str] = ()
    ) -> Reconciliation:
        """Reconcile one instance; `skip` holds order ids an executor is handling right now.

        Orders marked sent through this reconciler's own records are skipped too: their
        executor is alive (this process) and writes their results with its batch's commit.
        """
        report = Reconciliation(instance)
        for sent in await self.records.in_flight(instance):
            if sent.order.order_id in skip or sent.holder == self.records.holder:
                continue
            result = await self._resolve(sent, broker)
            if result is None:
                report.unresolved.append(sent.order.order_id)
            elif await self._finish(sent, result):
                report.resolved.append(result)
        positions = await broker.positions_get()
        orders = await broker.orders_get()
        report.external = await self._external(instance, magic, positions, orders)
        report.new_external = await self._record_external(instance, report.external)
        log.info(
            "reconciled",
            instance=instance,
            resolved=[r.order_id for r in report.resolved],
            unresolved=report.unresolved,
            external=len(report.external),
            new_external=len(report.new_external),
        )
        return report

    async def _resolve(self, sent: SentOrder, broker: Broker) -> Result | None:
        order = sent.order
        found = await broker.run(lambda t: find_on_broker(order, t) or find_applied(order, t))
        if found is None:
            return None
        life = OrderLifecycle(OrderStatus.RECEIVED, {OrderStatus.RECEIVED: order.received_at})
        life.advance(OrderStatus.ROUTED, order.routed_at)
        life.advance(OrderStatus.SENT, sent.sent_at)
        life.advance(found.status)
        found.notes.append("found on the terminal by reconciliation after a restart")
        return build_result(order, life, found)

    async def _finish(self, sent: SentOrder, result: Result) -> bool:
        """Result + terminal record in one transaction, only if the record is still `sent`."""
        order = sent.order
        status_key = self.records.keys.order_records(order.instance)
        async with self.redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(status_key)
                if await pipe.hget(status_key, order.order_id) != OrderStatus.SENT.value.encode():
                    await pipe.unwatch()  # type: ignore[no-untyped-call]
                    await self.redis.hdel(
                        self.records.keys.sent_orders(order.instance), order.order_id
                    )
                    return False  # finished meanwhile by the executor
                pipe.multi()  # type: ignore[no-untyped-call]
                pipe.execute_command(*self.topics.rtrs.xadd(self.topics.rtrs.encode(result)))
                pipe.hset(status_key, order.order_id, result.status.value)
                pipe.hdel(self.records.keys.sent_orders(order.instance), order.order_id)
                await pipe.execute()
            except WatchError:
                return False
        log.warning(
            "sent_order_recovered",
            instance=order.instance,
            order_id=order.order_id,
            status=result.status.value,
            order_ticket=result.order_ticket,
            deal_ticket=result.deal_ticket,
        )
        return True

    async def _external(
        self,
        instance: str,
        magic: int,
        positions: Collection[TradePosition],
        orders: Collection[TradeOrder],
    ) -> dict[str, dict[str, object]]:
        ours = await self.records.order_ids(
            instance, [p.comment for p in positions] + [o.comment for o in orders]
        )
        external: dict[str, dict[str, object]] = {}
        for p in positions:
            if p.magic != magic or p.comment not in ours:
                external[f"position:{p.ticket}"] = {
                    "kind": "position",
                    "ticket": p.ticket,
                    "symbol": p.symbol,
                    "type": p.type,
                    "volume": p.volume,
                    "price_open": p.price_open,
                    "sl": p.sl,
                    "tp": p.tp,
                    "magic": p.magic,
                    "comment": p.comment,
                    "time": p.time,
                }
        for o in orders:
            if o.magic != magic or o.comment not in ours:
                external[f"order:{o.ticket}"] = {
                    "kind": "order",
                    "ticket": o.ticket,
                    "symbol": o.symbol,
                    "type": o.type,
                    "volume": o.volume_current,
                    "price_open": o.price_open,
                    "sl": o.sl,
                    "tp": o.tp,
                    "magic": o.magic,
                    "comment": o.comment,
                    "time": o.time_setup,
                }
        return external

    async def _record_external(
        self, instance: str, external: dict[str, dict[str, object]]
    ) -> list[str]:
        """Replace the instance's external set; announce the ones not seen before in `ris`."""
        key = self.external_key(instance)
        known = {k.decode() if isinstance(k, bytes) else k for k in await self.redis.hkeys(key)}
        new = sorted(set(external) - known)
        now = time.time()
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(key)
        if external:
            pipe.hset(key, mapping={k: orjson.dumps(v) for k, v in external.items()})
        for name in new:
            event = {"event": "external_found", "instance": instance, **external[name], "ts": now}
            pipe.execute_command(*self.topics.ris.xadd(self.topics.ris.encode(event)))
        await pipe.execute()
        return new
