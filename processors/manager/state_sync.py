"""Account state sync: snapshots to `rts` and latest-state keys, kept going through Redis
failures.

Each write is retried with backoff (3 retries); when they are exhausted, sync is disabled,
whatever was being written stays queued, and Redis is probed every 2 s; the first probe
that answers resumes sync. The caller (the instance manager) turns those transitions into
`network_error` / `sync_resumed` events in `ris`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import orjson
import structlog
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from brokers.mt5.records import TradeOrder, TradePosition
from brokers.types import Broker
from model import AccountState, InstanceReport, PendingOrderState, PositionState
from model.keys import Keys
from model.topics import Topics
from processors.metrics import REDIS_RECONNECTS, STATE_SYNC_ENABLED
from streams.types import Command

log = structlog.get_logger(__name__)

NETWORK_ERRORS = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError, OSError)


@dataclass(frozen=True)
class SyncConfig:
    """How often and how stubbornly account state goes to Redis (the original design's
    numbers: every 500 ms, 3 retries with backoff, then a reconnect every 2 s)."""

    interval: float = 0.5
    retries: int = 3
    backoff: float = 0.1  # first retry after 0.1 s, then 0.2, 0.4
    reconnect_interval: float = 2.0
    queue_limit: int = 100_000  # reports kept while Redis is down; the oldest go first


class Totals(Protocol):
    """What account_info() and the simulator's bulk summary both carry."""

    @property
    def balance(self) -> float: ...
    @property
    def equity(self) -> float: ...
    @property
    def margin(self) -> float: ...
    @property
    def margin_free(self) -> float: ...
    @property
    def margin_level(self) -> float: ...
    @property
    def profit(self) -> float: ...


def account_state(
    instance: str,
    login: int,
    currency: str,
    totals: Totals,
    positions: Iterable[TradePosition],
    orders: Iterable[TradeOrder],
    ts: float,
) -> AccountState:
    """The `rts` snapshot from MT5 records, whoever read them."""
    return AccountState(
        instance=instance,
        login=login,
        currency=currency,
        balance=totals.balance,
        equity=totals.equity,
        margin=totals.margin,
        margin_free=totals.margin_free,
        margin_level=totals.margin_level,
        profit=totals.profit,
        positions=tuple(
            PositionState(
                ticket=p.ticket,
                symbol=p.symbol,
                type=p.type,
                volume=p.volume,
                price_open=p.price_open,
                sl=p.sl,
                tp=p.tp,
                price_current=p.price_current,
                profit=p.profit,
                magic=p.magic,
                comment=p.comment,
            )
            for p in positions
        ),
        orders=tuple(
            PendingOrderState(
                ticket=o.ticket,
                symbol=o.symbol,
                type=o.type,
                volume=o.volume_current,
                price_open=o.price_open,
                price_stoplimit=o.price_stoplimit,
                sl=o.sl,
                tp=o.tp,
                magic=o.magic,
                comment=o.comment,
            )
            for o in orders
        ),
        ts=ts,
    )


async def snapshot(instance: str, broker: Broker) -> AccountState | None:
    """The account as the broker sees it now; None when the terminal has no account."""
    account = await broker.account_info()
    if account is None:
        return None
    positions = await broker.positions_get()
    orders = await broker.orders_get()
    return account_state(
        instance, account.login, account.currency, account, positions, orders, time.time()
    )


class StateSync:
    """Writes many instances' states, and reports to `ris`, in one pipelined round trip.

    `rts` gets an entry when an instance's state changed; its latest-state key is
    rewritten every time, so its `ts` shows how fresh it is.
    """

    def __init__(self, redis: Redis, topics: Topics, config: SyncConfig | None = None) -> None:
        self.redis = redis
        self.topics = topics
        self.config = config or SyncConfig()
        self.enabled = True
        self.error: str | None = None
        self.down_since: float | None = None
        self.attempts = 0  # attempts of the write that disabled sync
        self.last_sync: dict[str, float] = {}  # instance → when its state was last written
        self.worst_gap = 0.0  # longest time between two writes of one instance's state
        self._queued: deque[InstanceReport] = deque(maxlen=self.config.queue_limit)
        self._last_content: dict[str, str] = {}  # instance → its last state without `ts`
        self._next_probe = 0.0
        STATE_SYNC_ENABLED.set(1)

    def queue(self, reports: Iterable[InstanceReport]) -> None:
        """Reports to write with the next successful round trip (in order)."""
        self._queued.extend(reports)

    async def publish(
        self,
        states: Sequence[AccountState],
        reports: Sequence[InstanceReport] = (),
        commands: Sequence[Command] = (),
    ) -> bool:
        """Write states, queued and new reports, and extra commands; False while disabled
        (reports are then kept for later, states are dropped: newer ones will follow)."""
        self.queue(reports)
        if not self.enabled and not await self._probe():
            return False
        reports_now = list(self._queued)
        batch: list[Command] = []
        contents: dict[str, str] = {}
        for state in states:
            raw = state.model_dump_json()
            batch.append(("SET", self.topics.keys.state(state.instance), raw))
            content = contents[state.instance] = _content(raw)
            if self._last_content.get(state.instance) != content:
                batch.append(self.topics.rts.xadd(raw.encode()))
        for report in reports_now:
            raw = report.model_dump_json()
            batch.append(self.topics.ris.xadd(raw.encode()))
            batch.append(("HSET", Keys(self.topics.prefix).instances_status, report.instance, raw))
        batch += commands
        if not batch:
            return True
        try:
            async for attempt in self._retrying():
                with attempt:
                    await self._send(batch)
        except NETWORK_ERRORS as error:
            self._disable(error)
            return False
        for _ in reports_now:
            self._queued.popleft()
        now = time.time()
        for state in states:
            last = self.last_sync.get(state.instance)
            if last is not None and now - last > self.worst_gap:
                self.worst_gap = now - last
            self.last_sync[state.instance] = now
        self._last_content.update(contents)
        return True

    async def _send(self, batch: Sequence[Command]) -> None:
        """One round trip; a new pipeline each attempt (a failed one forgets its commands)."""
        pipe = self.redis.pipeline(transaction=False)
        for command in batch:
            pipe.execute_command(*command)
        await pipe.execute()

    def _retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            retry=retry_if_exception_type(NETWORK_ERRORS),
            stop=stop_after_attempt(1 + self.config.retries),
            wait=wait_exponential(multiplier=self.config.backoff, max=2.0),
            reraise=True,
        )

    def _disable(self, error: BaseException) -> None:
        self.enabled = False
        self.attempts = 1 + self.config.retries
        self.error = f"{type(error).__name__}: {error}"
        self.down_since = time.time()
        self._next_probe = time.monotonic() + self.config.reconnect_interval
        STATE_SYNC_ENABLED.set(0)
        log.error(
            "state_sync_disabled",
            error=self.error,
            attempts=self.attempts,
            reconnect_every=self.config.reconnect_interval,
        )

    async def _probe(self) -> bool:
        """PING every reconnect interval while disabled; resume when it answers."""
        if time.monotonic() < self._next_probe:
            return False
        self._next_probe = time.monotonic() + self.config.reconnect_interval
        try:
            await self.redis.ping()
        except NETWORK_ERRORS as error:
            log.warning("redis_reconnect_failed", error=str(error))
            return False
        down_for = time.time() - (self.down_since or time.time())
        log.warning("state_sync_resumed", down_for=round(down_for, 3))
        self.enabled, self.error, self.attempts = True, None, 0
        self._last_content.clear()  # Redis may have lost everything: write every state again
        REDIS_RECONNECTS.inc()
        STATE_SYNC_ENABLED.set(1)
        return True


def _content(raw: str) -> str:
    """A state's JSON without its time stamp (AccountState's last field), to see what
    changed without comparing models field by field."""
    return raw[: raw.rfind('"ts":')]


def latest_state(raw: bytes | None) -> AccountState | None:
    return None if raw is None else AccountState.model_validate(orjson.loads(raw))
