"""The executor's order records in Redis: what was sent, what finished, and by which comment.

Per instance:
- `{prefix}orec:{instance}`: hash order_id → status, the effectively-once record;
- `{prefix}osent:{instance}`: hash order_id → the order (JSON) while it is `sent` and not yet
  finished, so reconciliation can finish it after a crash without the stream entry;
- `{prefix}ocomment:{instance}`: hash MT5 comment → order_id, to recognise our positions and
  orders on the terminal (the comment is a digest of order_id and instance).

`mark_sent` writes the three atomically (one script) before `order_send`, unless the record
is terminal, and with `durability` (decision 0019) waits until that many replicas hold them:
an order whose record a failover could lose is deferred, not sent. `finished` makes it
terminal, unless another finished it first, and removes the order from `osent` in the same
transaction as its result and ack. Each `osent` entry names its
`holder` (the OrderRecords, one per executor process, that marked it): while that process
lives, the order is its executor's to finish, even when the result still waits for its
batch's commit; only a dead holder's orders are reconciliation's.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from redis.asyncio import Redis

from brokers.mt5.requests import comment_of
from model import Order, OrderStatus
from model.keys import Keys
from streams import Defer
from streams.durable import Durability, NotReplicated
from streams.reader import text
from streams.types import Command


@dataclass(frozen=True)
class SentOrder:
    """An order recorded as sent whose result was not written yet."""

    order: Order
    sent_at: float
    holder: str = ""  # "" for entries written before holders were recorded


class OrderFinished(Exception):
    """The order's record turned terminal after the executor read it (the router rejected a
    copy of its signal meanwhile): it must not be sent, and has its result already."""

    def __init__(self, order: Order, status: OrderStatus) -> None:
        super().__init__(f"order {order.order_id}@{order.instance} is {status.value} already")
        self.status = status


MARK_SENT = """
local done = redis.call('HGET', KEYS[1], ARGV[1])
if done and done ~= ARGV[2] then return done end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[1])
return false
"""
"""The three records of `mark_sent` at once, unless the order is finished: one command,
where MULTI/EXEC costs redis-py a third more CPU (and its cluster client a helper thread
per queued command)."""
log = structlog.get_logger(__name__)

NOT_REPLICATED_RETRY = 1.0
"""Seconds before an order whose `sent` record no replica confirmed is tried again."""


class OrderRecords:
    """Reads and writes the order records of every instance under `prefix`.

    `holder` identifies these records' owner in the orders they mark sent (a random token
    by default: share one OrderRecords between a process's executor and reconciler).
    `durability`: how many replicas must hold a `sent` record before its order is sent.
    """

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        holder: str | None = None,
        durability: Durability | None = None,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.keys = Keys(prefix)
        self.holder = holder or secrets.token_hex(8)
        self.durability = durability or Durability()
        self._mark = redis.register_script(MARK_SENT)

    async def status(self, order: Order) -> OrderStatus | None:
        raw = await self.redis.hget(self.keys.order_records(order.instance), order.order_id)
        return None if raw is None else OrderStatus(text(raw))

    async def mark_sent(self, order: Order, at: float | None = None) -> float:
        """Record the order as sent, before it is sent; returns the time recorded. Raises
        OrderFinished if its record is terminal (the order must not be sent), and Defer if
        fewer replicas than `durability` asks confirmed the record in time (it must not be
        sent yet: a failover could lose the record and let the order be sent twice)."""
        sent_at = time.time() if at is None else at
        entry = orjson.dumps(
            {"order": order.model_dump(mode="json"), "sent_at": sent_at, "holder": self.holder}
        )
        keys = [self.keys.order_records(order.instance), self.keys.sent_orders(order.instance)]
        keys.append(self.keys.comments(order.instance))
        comment = comment_of(order)
        args: list[str | bytes] = [order.order_id, OrderStatus.SENT.value, entry, comment]
        if self.durability:  # WAIT on the connection that wrote: a pipeline, no MULTI
            pipe = self.redis.pipeline(transaction=False)
            await self._mark(keys=keys, args=args, client=pipe)
            self.durability.queue(pipe)
            done, acked = await pipe.execute()
            try:
                self.durability.check(acked, f"sent record of {order.order_id}@{order.instance}")
            except NotReplicated as error:
                log.warning(
                    "sent_record_not_replicated",
                    instance=order.instance,
                    order_id=order.order_id,
                    acked=error.acked,
                    wanted=error.wanted,
                )
                raise Defer(NOT_REPLICATED_RETRY, str(error)) from error
        else:
            done = await self._mark(keys=keys, args=args)
        if done is not None:
            raise OrderFinished(order, OrderStatus(text(done)))
        return sent_at

    def queue_status(self, pipe: Any, instance: str, order_ids: list[str]) -> None:
        """Queue the records of `order_ids` on a batch's pipeline (`statuses` reads it)."""
        pipe.hmget(self.keys.order_records(instance), order_ids)

    def finished(self, order: Order, status: OrderStatus, seen: str) -> list[Command]:
        """The commands that end the order's record with its result, for the batch's
        commit: only if the record still holds `seen` (what the batch read, or `sent`), so
        a record another finished meanwhile (the router's rejection of a copy) sends the
        batch around again instead of a second result. The comment names our trade for
        reconciliation (the held simulator records no `sent` before it)."""
        instance, order_id = order.instance, order.order_id
        comment = comment_of(order)
        return [
            ("EXPECT", self.keys.order_records(instance), order_id, seen),
            ("HSET", self.keys.order_records(instance), order_id, status.value),
            ("HSET", self.keys.comments(instance), comment, order_id),
            ("HDEL", self.keys.sent_orders(instance), order_id),
        ]

    async def in_flight(self, instance: str) -> list[SentOrder]:
        """Orders marked sent whose result was never written (a crash in between)."""
        raw = await self.redis.hgetall(self.keys.sent_orders(instance))
        found = []
        for value in raw.values():
            entry = orjson.loads(value)
            order = Order.model_validate(entry["order"])
            found.append(SentOrder(order, float(entry["sent_at"]), str(entry.get("holder", ""))))
        return sorted(found, key=lambda s: s.sent_at)

    async def order_ids(self, instance: str, comments: Iterable[str]) -> dict[str, str]:
        """comment → order_id of the comments that belong to our orders."""
        wanted = sorted(set(comments))
        if not wanted:
            return {}
        ids = await self.redis.hmget(self.keys.comments(instance), wanted)
        return {c: text(i) for c, i in zip(wanted, ids, strict=True) if i is not None}
