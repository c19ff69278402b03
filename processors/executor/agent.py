"""The `executor` agent on `orders:{instance}`: effectively-once execution and results."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import time
from dataclasses import dataclass

import structlog
from redis.asyncio import Redis

from brokers.types import Broker, BrokerUnavailable
from eaflow.instances import InstanceRegistry
from eaflow.models import InstanceSpec, Order, OrderLifecycle, OrderStatus, TradingConfig
from processors.executor.execute import RetryPolicy, execute
from processors.executor.outcome import Outcome, build_result
from processors.metrics import RESULTS, SIGNAL_LATENCY
from processors.topics import Topics
from streams import Event, Outbox

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ExecutorConfig:
    """How long an unsent order may wait for its broker, and how often to reconnect."""

    order_ttl: float = 30.0
    reconnect_interval: float = 5.0
    retry: RetryPolicy = RetryPolicy()


class Executor:
    """Executes the orders of the instances this process hosts (their broker sessions)."""

    def __init__(
        self,
        topics: Topics,
        registry: InstanceRegistry,
        redis: Redis,
        brokers: dict[str, Broker],
        config: ExecutorConfig = ExecutorConfig(),
    ) -> None:
        self.topics = topics
        self.registry = registry
        self.redis = redis
        self.brokers = brokers
        self.config = config
        self.specs: dict[str, InstanceSpec] = {}

    async def refresh(self) -> None:
        self.specs = await self.registry.all()

    def trading_config(self, instance: str) -> TradingConfig:
        spec = self.specs.get(instance)
        return spec.config if spec is not None else TradingConfig()

    async def handle(self, event: Event[Order], out: Outbox) -> None:
        order = event.value
        records = self.topics.order_records_key(order.instance)
        record = await self.redis.hget(records, order.order_id)
        if record is not None and OrderStatus(record.decode()).is_terminal:
            log.info("duplicate_order_skipped", order_id=order.order_id, instance=order.instance)
            return
        already_sent = record == b"sent"

        async def mark_sent() -> None:
            await self.redis.hset(records, order.order_id, OrderStatus.SENT.value)

        life, outcome = await self._execute(order, mark_sent, already_sent)
        result = build_result(order, life, outcome)
        out.send(self.topics.rtrs, result)
        out.call("HSET", records, order.order_id, result.status.value)
        RESULTS.labels(result.status.value, str(result.retcode or "")).inc()
        SIGNAL_LATENCY.observe(max(0.0, result.done_at - order.received_at))

    async def _execute(
        self, order: Order, mark_sent: Callable[[], Awaitable[None]], already_sent: bool
    ) -> tuple[OrderLifecycle, Outcome]:
        """Wait for an unreachable broker: an unsent order fails after its TTL; a sent one
        is never given up, since only the broker knows whether it was executed."""
        broker = self.brokers[order.instance]
        sent = already_sent
        while True:
            try:
                return await execute(
                    order, broker, self.trading_config(order.instance), mark_sent, sent,
                    self.config.retry,
                )
            except BrokerUnavailable as error:
                sent = sent or await self._was_marked(order)
                if not sent and time.time() > order.routed_at + self.config.order_ttl:
                    life = OrderLifecycle(OrderStatus.RECEIVED,
                                          {OrderStatus.RECEIVED: order.received_at})
                    life.advance(OrderStatus.ROUTED, order.routed_at)
                    life.advance(OrderStatus.FAILED)
                    return life, Outcome(OrderStatus.FAILED, field="broker",
                                         error=f"broker unavailable: {error}")
                log.warning("broker_unavailable", instance=order.instance, error=str(error))
                await asyncio.sleep(self.config.reconnect_interval)
                await self._reconnect(order.instance, broker)

    async def _was_marked(self, order: Order) -> bool:
        record = await self.redis.hget(self.topics.order_records_key(order.instance), order.order_id)
        return record == b"sent"

    async def _reconnect(self, instance: str, broker: Broker) -> None:
        try:
            await broker.connect()
        except BrokerUnavailable as error:
            log.warning("reconnect_failed", instance=instance, error=str(error))
