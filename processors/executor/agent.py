"""The `executor` agent on `orders:{instance}`: effectively-once execution and results."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from redis.asyncio import Redis

from brokers.types import Broker, BrokerUnavailable
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
from streams import Defer, Event, Outbox

log = structlog.get_logger(__name__)

GROUP = "executor"
"""The consumer group executors read `orders:{instance}` as (see eaflow/install/__init__.py)."""
REMEMBERED = 10_000
"""Entries whose order id is remembered, to tell a second entry of an order in one batch."""


@dataclass(frozen=True)
class ExecutorConfig:
    """How long an unsent order may wait for its broker, and how often to reconnect."""

    order_ttl: float = 30.0
    reconnect_interval: float = 5.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)


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
        """The hosted instances' latest states, so opens far from a limit skip the broker's
        positions, orders and account (a 500 ms timer)."""
        await self.limits.refresh(list(self.brokers))

    def trading_config(self, instance: str) -> TradingConfig:
        spec = self.specs.get(instance)
        return spec.config if spec is not None else TradingConfig()

    async def handle(self, event: Event[Order], out: Outbox) -> None:
        order = event.value
        record = await self.records.status(order)
        if record is not None and record.is_terminal:
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
        already_sent = record is OrderStatus.SENT

        async def mark_sent() -> None:
            await self.records.mark_sent(order)
            if order.action is Action.OPEN:
                self.limits.opened(order)

        try:
            self._admit(order, already_sent or again)
        except Refusal as refusal:
            life, outcome = _rejected(order, refusal)
        else:
            try:
                life, outcome = await self._execute(order, mark_sent, already_sent)
            except OrderFinished as finished:
                log.info(
                    "duplicate_order_skipped",
                    order_id=order.order_id,
                    instance=order.instance,
                    status=finished.status.value,
                )
                return
        result = build_result(order, life, outcome)
        self.records.finish(out, order, result.status)  # guards the result
        out.send(self.topics.rtrs, result)
        RESULTS.labels(result.status.value, str(result.retcode or "")).inc()
        SIGNAL_LATENCY.observe(max(0.0, result.done_at - order.received_at))

    async def _execute(
        self, order: Order, mark_sent: Callable[[], Coroutine[Any, Any, None]], already_sent: bool
    ) -> tuple[OrderLifecycle, Outcome]:
        """Reconnect an unreachable broker once at once; while it stays away the order is
        deferred (`Defer`: its instance's later orders wait behind it, other instances go
        on) and tried again every `reconnect_interval`. An unsent order fails once past its
        TTL; a sent one is never given up, since only the broker knows if it was executed."""
        sent = already_sent
        for reconnected in (False, True):
            broker = self.brokers[order.instance]  # the manager may have opened a new session
            try:
                return await self._attempt(order, broker, mark_sent, sent)
            except BrokerUnavailable as error:
                sent = sent or await self._was_marked(order)
                unavailable = error
            if reconnected or not await self._reconnect(order, broker):
                break
        if not sent and time.time() > order.routed_at + self.config.order_ttl:
            return _failed(order, f"broker unavailable: {unavailable}")
        log.warning("broker_unavailable", instance=order.instance, error=str(unavailable))
        raise Defer(self.config.reconnect_interval, f"broker unavailable: {unavailable}")

    async def _attempt(
        self,
        order: Order,
        broker: Broker,
        mark_sent: Callable[[], Coroutine[Any, Any, None]],
        sent: bool,
    ) -> tuple[OrderLifecycle, Outcome]:
        """The order's whole execution on the terminal's thread: one hop."""
        config = self.trading_config(order.instance).for_symbol(order.symbol)
        marking = on_loop(mark_sent)
        retry, limits = self.config.retry, self.limits
        return await broker.run(
            lambda terminal: execute(order, terminal, config, marking, sent, retry, limits)
        )

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


def on_loop(work: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """`work`, callable from the terminal's thread: it runs on the event loop (the order
    records' Redis client lives there) while the thread waits for it."""
    loop = asyncio.get_running_loop()
    return lambda: asyncio.run_coroutine_threadsafe(work(), loop).result()
