"""The `executor` agent on `orders:{instance}`: effectively-once execution, a batch at a time.

A batch costs three round trips however many orders it holds: the read of the entries (the
runtime's), one pipelined read of every order's record and of what the held simulated
accounts need (their version, the quotes, ticket numbers), and one commit of every result
with its record, the accounts' changes and the acks (the runtime's, one unit per instance).
An instance's orders run in order on its broker: inline on a simulated account held in
memory (`HeldBroker`), one thread hop per order on a real terminal, whose `sent` record is
written before `order_send` (effectively once across a crash); instances run concurrently.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import structlog
from redis.asyncio import Redis

from brokers.types import Broker, BrokerUnavailable, HeldBroker
from model import Action, InstanceSpec, Order, OrderLifecycle, OrderStatus, TradingConfig
from model.topics import Topics
from processors.executor.execute import RetryPolicy, execute
from processors.executor.limits import AccountLimits
from processors.executor.outcome import Outcome, build_result
from processors.executor.rate import OrderRate
from processors.executor.reconcile import Reconciler
from processors.executor.records import OrderFinished, OrderRecords
from processors.metrics import RESULTS, SIGNAL_LATENCY
from processors.registry import InstanceRegistry
from processors.rules import Refusal
from streams import Batch, Defer, Event, Outbox
from streams.reader import text

log = structlog.get_logger(__name__)

GROUP = "executor"
"""The consumer group executors read `orders:{instance}` as (see eaflow/install/orders.py)."""
REMEMBERED = 10_000
"""Entries whose order id is remembered, to tell a second entry of an order in one batch."""
ONCE = RetryPolicy(attempts=1)
"""A held account's quotes stand still within a batch: a retry could not change its answer."""


@dataclass(frozen=True)
class ExecutorConfig:
    """How long an unsent order may wait for its broker, and how often to reconnect."""

    order_ttl: float = 30.0
    reconnect_interval: float = 5.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(slots=True)
class Pending:
    """An order of the batch and what its record held when the batch read it."""

    event: Event[Order]
    seen: str  # "" when absent


class Executor:
    """Executes the orders of the instances this process hosts (their broker sessions)."""

    def __init__(
        self,
        topics: Topics,
        registry: InstanceRegistry,
        redis: Redis,
        brokers: Mapping[str, Broker],
        config: ExecutorConfig = ExecutorConfig(),
        reconciler: Reconciler | None = None,
    ) -> None:
        self.topics = topics
        self.registry = registry
        self.redis = redis
        self.brokers = brokers
        self.config = config
        # One holder for both: the reconciler must know which sent orders are this executor's.
        self.records = reconciler.records if reconciler else OrderRecords(redis, topics.prefix)
        self.reconciler = reconciler
        self.specs: dict[str, InstanceSpec] = {}
        self.rate = OrderRate()
        self.limits = AccountLimits(redis, topics)
        self._handled: OrderedDict[tuple[str, str], str] = OrderedDict()  # order → entry id

    async def refresh(self) -> None:
        self.specs = await self.registry.all()

    async def refresh_limits(self) -> None:
        """The hosted real terminals' latest states, so opens far from a limit skip the
        broker's positions, orders and account (a 500 ms timer); held accounts are exact."""
        await self.limits.refresh([i for i, b in self.brokers.items() if not _held(b)])

    def trading_config(self, instance: str) -> TradingConfig:
        spec = self.specs.get(instance)
        return spec.config if spec is not None else TradingConfig()

    async def handle(self, batch: Batch[Order]) -> None:
        pending = await self._prepare(batch)
        await asyncio.gather(
            *(self._stream(batch, stream, orders) for stream, orders in pending.items())
        )

    async def _prepare(self, batch: Batch[Order]) -> dict[str, list[Pending]]:
        """One round trip for the whole batch: every order's record, and the reads of the
        held accounts (then a held account someone else moved is loaded again)."""
        pipe = self.redis.pipeline(transaction=False)
        for events in batch.streams.values():
            self.records.queue_status(
                pipe, events[0].value.instance, [e.value.order_id for e in events]
            )
        held: list[tuple[str, HeldBroker, int]] = []
        for stream, events in batch.streams.items():
            broker = self.brokers.get(events[0].value.instance)
            if _held(broker):
                symbols = {e.value.symbol for e in events if e.value.symbol}
                held.append((stream, broker, broker.prepare(pipe, symbols, len(events))))
        replies = await pipe.execute()
        streams = len(batch.streams)
        pending = {
            stream: [
                Pending(e, "" if r is None else text(r)) for e, r in zip(events, found, strict=True)
            ]
            for (stream, events), found in zip(
                batch.streams.items(), replies[:streams], strict=True
            )
        }
        at, loads = streams, []
        for stream, account, count in held:
            loads.append(self._ready(batch, stream, account, replies[at : at + count]))
            at += count
        await asyncio.gather(*loads)
        return {s: p for s, p in pending.items() if not batch.stopped(s)}

    async def _ready(
        self, batch: Batch[Order], stream: str, broker: HeldBroker, replies: list[Any]
    ) -> None:
        try:
            await broker.ready(replies)
        except BrokerUnavailable as error:
            first = batch.streams[stream][0]
            batch.defer(first, self._away(first.value, str(error)))

    async def _stream(self, batch: Batch[Order], stream: str, orders: list[Pending]) -> None:
        """The instance's orders in order; a deferred one holds back the rest of them."""
        out = batch.outbox(stream)
        broker = self.brokers.get(orders[0].event.value.instance)
        try:
            for pending in orders:
                try:
                    await self._order(pending, out)
                except Defer as defer:
                    batch.defer(pending.event, defer)
                    break
        except BaseException:
            if _held(broker):
                broker.forget()  # its book holds trades that will not be committed
            raise
        finally:
            if _held(broker):
                out.commands[:0] = broker.writes()  # the account's changes, with the results

    async def _order(self, pending: Pending, out: Outbox) -> None:
        event, order = pending.event, pending.event.value
        if pending.seen and OrderStatus(pending.seen).is_terminal:
            log.info("duplicate_order_skipped", order_id=order.order_id, instance=order.instance)
            return
        if await self._in_hand(event):
            log.info("duplicate_order_skipped", order_id=order.order_id, instance=order.instance)
            return
        key = (order.instance, order.order_id)
        again = self._handled.get(key) == event.id  # deferred or failed before: admitted
        self._handled[key] = event.id
        if len(self._handled) > REMEMBERED:
            self._handled.popitem(last=False)
        already_sent = pending.seen == OrderStatus.SENT.value
        try:
            self._admit(order, already_sent or again)
        except Refusal as refusal:
            life, outcome = _rejected(order, refusal)
        else:
            try:
                life, outcome, marked = await self._execute(order, already_sent)
            except OrderFinished as finished:
                log.info(
                    "duplicate_order_skipped",
                    order_id=order.order_id,
                    instance=order.instance,
                    status=finished.status.value,
                )
                return
            if marked:
                pending.seen = OrderStatus.SENT.value
        result = build_result(order, life, outcome)
        for command in self.records.finished(order, result.status, pending.seen):
            out.call(str(command[0]), *command[1:])
        out.send(self.topics.rtrs, result)
        RESULTS.labels(result.status.value, str(result.retcode or "")).inc()
        SIGNAL_LATENCY.observe(max(0.0, result.done_at - order.received_at))

    async def _execute(
        self, order: Order, already_sent: bool
    ) -> tuple[OrderLifecycle, Outcome, bool]:
        """Reconnect an unreachable broker once at once; while it stays away the order is
        deferred (`Defer`: its instance's later orders wait behind it, other instances go
        on) and tried again every `reconnect_interval`. An unsent order fails once past its
        TTL; a sent one is never given up, since only the broker knows if it was executed.
        The third value says whether this call recorded the order `sent`."""
        sent = already_sent
        marked = False
        for reconnected in (False, True):
            broker = self.brokers[order.instance]  # the manager may have opened a new session
            try:
                life, outcome, now_marked = await self._attempt(order, broker, sent)
                return life, outcome, marked or now_marked
            except BrokerUnavailable as error:
                now = await self._was_marked(order)
                marked = marked or (now and not sent)
                sent = sent or now
                unavailable = error
            if reconnected or not await self._reconnect(order, broker):
                break
        if not sent and time.time() > order.routed_at + self.config.order_ttl:
            life, outcome = _failed(order, f"broker unavailable: {unavailable}")
            return life, outcome, marked
        raise self._away(order, str(unavailable))

    def _away(self, order: Order, error: str) -> Defer:
        log.warning("broker_unavailable", instance=order.instance, error=error)
        return Defer(self.config.reconnect_interval, f"broker unavailable: {error}")

    async def _attempt(
        self, order: Order, broker: Broker, sent: bool
    ) -> tuple[OrderLifecycle, Outcome, bool]:
        """The order's whole execution on its terminal: inline on a held account (whose
        writes commit with the result: no `sent` record), else on the terminal's thread,
        one hop, its `sent` record written on the event loop before `order_send`."""
        config = self.trading_config(order.instance).for_symbol(order.symbol)
        if isinstance(broker, HeldBroker):
            life, outcome = await broker.trade(
                lambda terminal: execute(order, terminal, config, _nothing, sent, ONCE)
            )
            return life, outcome, False
        marked: list[bool] = []

        async def mark_sent() -> None:
            await self.records.mark_sent(order)
            marked.append(True)
            if order.action is Action.OPEN:
                self.limits.opened(order)

        marking = on_loop(mark_sent)
        retry, limits = self.config.retry, self.limits
        life, outcome = await broker.run(
            lambda terminal: execute(order, terminal, config, marking, sent, retry, limits)
        )
        return life, outcome, bool(marked)

    async def _in_hand(self, event: Event[Order]) -> bool:
        """Another entry of this order (a signal sent or routed twice) was handled here and
        is still pending: its result comes with its batch's commit, or with its retry.

        The record cannot tell, since results and terminal records are written by the
        commit; an entry no longer pending (dead-lettered) leaves the order to this one.
        """
        order = event.value
        other = self._handled.get((order.instance, order.order_id))
        if other is None or other == event.id:
            return False
        pending: Any = await self.redis.xpending_range(event.stream, GROUP, other, other, 1)
        return bool(pending)

    def _admit(self, order: Order, admitted: bool) -> None:
        """New positions count against the instance's order rate limit, once each."""
        if order.action is Action.OPEN and not admitted:
            limit = self.trading_config(order.instance).order_rate_limit
            self.rate.admit(order.instance, limit, time.time())

    async def _was_marked(self, order: Order) -> bool:
        return await self.records.status(order) is OrderStatus.SENT

    async def _reconnect(self, order: Order, broker: Broker) -> bool:
        """Reconnect, then reconcile the instance (except this order, which the caller is
        still executing): what happened while the terminal was away is recorded first."""
        try:
            await broker.connect()
            if self.reconciler is not None:
                magic = self.specs[order.instance].magic if order.instance in self.specs else 0
                await self.reconciler.run(order.instance, broker, magic, skip={order.order_id})
        except BrokerUnavailable as error:
            log.warning("reconnect_failed", instance=order.instance, error=str(error))
            return False
        return True


def _held(broker: Broker | None) -> TypeGuard[HeldBroker]:
    return isinstance(broker, HeldBroker)


def _nothing() -> None:
    """A held account records nothing before it trades: its trade commits with the result."""


def on_loop(work: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """`work`, callable from the terminal's thread: it runs on the event loop (the order
    records' Redis client lives there) while the thread waits for it."""
    loop = asyncio.get_running_loop()
    return lambda: asyncio.run_coroutine_threadsafe(work(), loop).result()


def _unsent(order: Order, status: OrderStatus) -> OrderLifecycle:
    """Received, routed, then `status` now: an order that never reached the broker."""
    life = OrderLifecycle(OrderStatus.RECEIVED, {OrderStatus.RECEIVED: order.received_at})
    life.advance(OrderStatus.ROUTED, order.routed_at)
    life.advance(status)
    return life


def _rejected(order: Order, refusal: Refusal) -> tuple[OrderLifecycle, Outcome]:
    outcome = Outcome(OrderStatus.REJECTED, field=refusal.field, error=str(refusal))
    return _unsent(order, OrderStatus.REJECTED), outcome


def _failed(order: Order, error: str) -> tuple[OrderLifecycle, Outcome]:
    outcome = Outcome(OrderStatus.FAILED, field="broker", error=error)
    return _unsent(order, OrderStatus.FAILED), outcome
