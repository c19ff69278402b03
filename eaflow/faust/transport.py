"""The faust-streaming transport on Redis Streams: `Transport`, `Producer`, `Consumer`.

Registered for the URL schemes `redis` and `rediss` (entry point group `faust.transports`):
``faust.App("strategy", broker="redis://localhost:6379/0?prefix=faust:")``. The query's
`prefix` (default `faust:`) and `trim_interval` (seconds between retention passes, default
30) are the transport's own; the rest of the URL is redis-py's.

A partition is one stream (`layout.py`). The producer writes each partition's messages of a
flush in one `PRODUCE` script (dense ids, compaction), all partitions in one pipeline. The
consumer reads its active partitions with one `XREAD` from its positions, commits offsets
through its group (`group.py`), fenced by generation. Guarantees: at least once. Redis has
no transactions across a read and a write of different clients, so Faust's exactly-once
processing is refused at start; the replication factor of topics is Redis's own
(replicas, AOF) and is ignored; Redis ≥ 7.0 is required (dense ids, `XADD key 0-*`).
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
from collections import defaultdict
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, cast

import orjson
import redis
import redis.asyncio as aioredis
from aiokafka.partitioner import DefaultPartitioner
from faust.exceptions import ImproperlyConfigured, ProducerSendError
from faust.transport import base
from faust.transport.consumer import Consumer as BaseConsumer
from faust.transport.consumer import RecordMap
from faust.transport.producer import Producer as BaseProducer
from faust.types import TP, AppT, ConsumerMessage, HeadersArg, RecordMetadata
from faust.types.enums import ProcessingGuarantee
from faust.types.transports import ConsumerT, ProducerT
from mode import Service, get_logger
from mode.utils.times import Seconds, want_seconds
from yarl import URL

from eaflow.faust import scripts
from eaflow.faust.group import Assignor, Group, Timing
from eaflow.faust.layout import DEFAULT_PREFIX, Layout, offset_of

logger = get_logger(__name__)

MIN_REDIS = (7, 0)
OWN_QUERY = ("prefix", "trim_interval")
READ_BLOCK = 0.2  # seconds an XREAD waits for new messages before looking at the assignment
PER_SCRIPT = 500  # messages per PRODUCE call
TRIM_BATCH = 1000


@dataclass(frozen=True)
class TopicMeta:
    """A topic as declared: partitions and its cleanup policy."""

    partitions: int
    compacting: bool = False
    deleting: bool = False
    retention_ms: int | None = None

    def dumps(self) -> bytes:
        return orjson.dumps(
            {
                "partitions": self.partitions,
                "compacting": self.compacting,
                "deleting": self.deleting,
                "retention_ms": self.retention_ms,
            }
        )

    @classmethod
    def loads(cls, raw: bytes | str) -> TopicMeta:
        data = orjson.loads(raw)
        return cls(
            partitions=int(data["partitions"]),
            compacting=bool(data.get("compacting")),
            deleting=bool(data.get("deleting")),
            retention_ms=data.get("retention_ms"),
        )


class Record(NamedTuple):
    """One message as read from a partition's stream."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def encode_headers(headers: HeadersArg | None) -> bytes | None:
    if not headers:
        return None
    items = headers.items() if isinstance(headers, Mapping) else headers
    return orjson.dumps([[k, v.hex()] for k, v in items])


def decode_headers(raw: bytes | None) -> list[tuple[str, bytes]]:
    if not raw:
        return []
    return [(k, bytes.fromhex(v)) for k, v in orjson.loads(raw)]


def record_of(topic: str, partition: int, entry_id: bytes, fields: Mapping[bytes, bytes]) -> Record:
    return Record(
        topic,
        partition,
        offset_of(entry_id),
        int(fields.get(b"t", 0)),
        fields.get(b"k"),
        fields.get(b"v"),
        decode_headers(fields.get(b"h")),
    )


def redis_url(url: URL) -> tuple[str, str, float]:
    """redis-py's URL without the transport's own query, the prefix, the trim interval."""
    query = url.query
    prefix = query.get("prefix", DEFAULT_PREFIX)
    trim = float(query.get("trim_interval", 30))
    kept = {k: v for k, v in query.items() if k not in OWN_QUERY}
    return str(url.with_query(kept)), prefix, trim


class Transport(base.Transport):
    """Faust's transport on Redis Streams."""

    Consumer: ClassVar[type[ConsumerT]]
    Producer: ClassVar[type[ProducerT]]

    default_port = 6379
    driver_version = f"redis-py={redis.__version__}"

    def __init__(self, url: list[URL], app: AppT, loop: asyncio.AbstractEventLoop | None = None):
        super().__init__(url, app, loop=loop)
        if cast(Any, app.conf).processing_guarantee == ProcessingGuarantee.EXACTLY_ONCE:
            raise ImproperlyConfigured(
                "processing_guarantee='exactly_once' needs Kafka's transactions; the Redis "
                "transport gives at-least-once: use processing_guarantee='at_least_once' "
                "(docs/faust.md)"
            )
        self.redis_url, prefix, self.trim_interval = redis_url(url[0])
        self.layout = Layout(prefix)
        self.topics: dict[str, TopicMeta] = {}
        self._checked = False

    def client(self) -> aioredis.Redis:
        """A new client of the broker's Redis (the producer and consumer have one each)."""
        return aioredis.Redis.from_url(self.redis_url)

    async def check_server(self, redis: aioredis.Redis) -> None:
        """Refuse a server older than 7.0 (no `XADD key 0-*`), saying so."""
        if self._checked:
            return
        info: Any = await redis.info("server")
        version = str(info.get("redis_version", "0.0.0"))
        found = tuple(int(p) for p in version.split(".")[:2])
        if found < MIN_REDIS:
            raise ImproperlyConfigured(
                f"the Redis transport needs Redis ≥ 7.0 (dense stream ids, XADD key 0-*); "
                f"{self.redis_url} runs {version}"
            )
        self._checked = True
        logger.info(
            "Redis transport on %s (Redis %s, prefix %r): at-least-once; topic replication "
            "factors are ignored (Redis replicates and persists on its own: replicas, AOF)",
            self.redis_url,
            version,
            self.layout.prefix,
        )

    async def load_topics(self, redis: aioredis.Redis) -> dict[str, TopicMeta]:
        raw: Any = await redis.hgetall(self.layout.topics)
        self.topics = {k.decode(): TopicMeta.loads(v) for k, v in raw.items()}
        return self.topics

    async def topic(self, redis: aioredis.Redis, name: str) -> TopicMeta:
        """The topic's metadata, creating it with the app's default partitions (as Kafka's
        automatic topic creation does) when nobody declared it."""
        meta = self.topics.get(name)
        if meta is None:
            raw = await redis.hget(self.layout.topics, name)
            if raw is None:
                await self.create_topic(redis, name, self.app.conf.topic_partitions)
                raw = await redis.hget(self.layout.topics, name)
            meta = self.topics[name] = TopicMeta.loads(cast(bytes, raw))
        return meta

    async def create_topic(
        self,
        redis: aioredis.Redis,
        topic: str,
        partitions: int,
        replication: int = 1,
        *,
        retention: Seconds | None = None,
        compacting: bool | None = None,
        deleting: bool | None = None,
    ) -> None:
        """Declare a topic (HSETNX: the first declaration stands, as in Kafka)."""
        meta = TopicMeta(
            partitions=partitions,
            compacting=bool(compacting),
            deleting=bool(deleting),
            retention_ms=int(want_seconds(retention) * 1000) if retention else None,
        )
        created = await redis.hsetnx(self.layout.topics, topic, meta.dumps())
        if not created:
            existing = TopicMeta.loads(cast(bytes, await redis.hget(self.layout.topics, topic)))
            if existing.partitions != partitions:
                logger.warning(
                    "topic %r exists with %s partitions (asked for %s): kept as it is",
                    topic,
                    existing.partitions,
                    partitions,
                )
            meta = existing
        self.topics[topic] = meta


def _transport(service: Any) -> Transport:
    return cast(Transport, service.transport)


class _Client:
    """What the producer and the consumer share: a client of their own, opened when first
    used and closed at shutdown, and topics declared through the transport."""

    _redis: aioredis.Redis | None = None

    @property
    def redis(self) -> aioredis.Redis:
        if self._redis is None:
            self._redis = _transport(self).client()
        return self._redis

    async def on_shutdown(self) -> None:
        """Close the client once the tasks are stopped (one still running would reopen it)."""
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def create_topic(
        self,
        topic: str,
        partitions: int,
        replication: int,
        *,
        config: Mapping[str, Any] | None = None,
        timeout: Seconds = 30.0,  # noqa: ASYNC109 - Faust's signature
        retention: Seconds | None = None,
        compacting: bool | None = None,
        deleting: bool | None = None,
        ensure_created: bool = False,
    ) -> None:
        await _transport(self).create_topic(
            self.redis,
            topic,
            partitions,
            replication,
            retention=retention,
            compacting=compacting,
            deleting=deleting,
        )


class Producer(_Client, BaseProducer):
    """Buffers sends and writes them in pipelined `PRODUCE` scripts, one per partition."""

    transport: Transport

    def __post_init__(self) -> None:
        if self.partitioner is None:
            self.partitioner = DefaultPartitioner()
        self._pending: dict[TP, list[tuple[Any, ...]]] = defaultdict(list)
        self._inflight: set[asyncio.Future[Any]] = set()
        self._wake = asyncio.Event()
        self._writing = asyncio.Lock()
        self._received = 0  # messages handed to send()
        self._send_signal = self.app.on_produce_message.send

    async def on_start(self) -> None:
        await super().on_start()
        await _transport(self).check_server(self.redis)
        self._script = self.redis.register_script(scripts.PRODUCE)
        self._trim = self.redis.register_script(scripts.TRIM)

    async def on_stop(self) -> None:
        await super().on_stop()
        await self._write_pending()

    async def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        timestamp: float | None,
        headers: HeadersArg | None,
        *,
        transactional_id: str | None = None,
    ) -> Awaitable[RecordMetadata]:
        """Queue a message; the future resolves once Redis has it."""
        if transactional_id:
            raise ProducerSendError("the Redis transport has no transactions (at-least-once)")
        meta = await _transport(self).topic(self.redis, topic)
        if partition is None:
            partition = self._partition(key, meta.partitions)
        elif not 0 <= partition < meta.partitions:
            raise ProducerSendError(
                f"topic {topic!r} has partitions 0..{meta.partitions - 1}, not {partition}"
            )
        self._send_signal(
            key=key, value=value, partition=partition, timestamp=timestamp, headers=headers
        )
        future: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
        self._received += 1
        ts = int((timestamp if timestamp else time.time()) * 1000)
        self._pending[TP(topic, partition)].append(
            (key, value, ts, encode_headers(headers), future)
        )
        self._inflight.add(future)
        future.add_done_callback(self._inflight.discard)
        self._wake.set()
        return future

    async def send_and_wait(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        timestamp: float | None,
        headers: HeadersArg | None,
        *,
        transactional_id: str | None = None,
    ) -> RecordMetadata:
        future = await self.send(
            topic, key, value, partition, timestamp, headers, transactional_id=transactional_id
        )
        return await future

    def _partition(self, key: bytes | None, partitions: int) -> int:
        if key is None:
            return random.randrange(partitions)
        every = list(range(partitions))
        return int(cast(Any, self.partitioner)(key, every, every))

    @Service.task
    async def _writer(self) -> None:
        while not self.should_stop:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(0)  # let the sends of this loop turn join the batch
            await self._write_pending()

    async def _write_pending(self) -> None:
        """Write what is pending; one write at a time, so each partition keeps its order."""
        async with self._writing:
            await self._write_batch()

    async def _write_batch(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, defaultdict(list)
        transport = _transport(self)
        pipe = self.redis.pipeline(transaction=False)
        calls: list[tuple[TP, list[tuple[Any, ...]]]] = []
        for tp, messages in pending.items():
            meta = transport.topics[tp.topic]
            keys = [transport.layout.stream(*tp), transport.layout.latest(*tp)]
            for start in range(0, len(messages), PER_SCRIPT):
                chunk = messages[start : start + PER_SCRIPT]
                args: list[Any] = ["1" if meta.compacting else "0"]
                for key, value, ts, headers, _ in chunk:
                    flags = (
                        (key is not None) | (value is not None) << 1 | (headers is not None) << 2
                    )
                    args += [flags, key or b"", value or b"", ts, headers or b""]
                await self._script(keys=keys, args=args, client=pipe)
                calls.append((tp, chunk))
        try:
            replies = await pipe.execute(raise_on_error=False)
        except Exception as error:  # the connection: every message of the flush failed
            replies = [error] * len(calls)
        for (tp, chunk), reply in zip(calls, replies, strict=True):
            for n, (_, _, ts, _, future) in enumerate(chunk):
                if future.done():
                    continue
                if isinstance(reply, BaseException):
                    future.set_exception(ProducerSendError(f"Error while sending: {reply!r}"))
                else:
                    future.set_result(
                        RecordMetadata(
                            tp.topic, tp.partition, tp, offset_of(reply[n]), ts / 1000.0, 0
                        )
                    )

    async def flush(self) -> None:
        """Wait until every message sent so far is in Redis, those still in Faust's buffer
        (table changelog updates) too: offsets are committed right after a flush, so a
        change a commit covers must not still be on its way. Faust's own buffer flush gives
        up after 0.1 s without a message sent, whatever it still holds; this one waits for
        the messages buffered when it was called (not those added since: under load the
        buffer is never empty)."""
        goal = self._received + self.buffer.size
        while self._received < goal and self.buffer.size and self.buffer.state == "running":
            await self.buffer.flush_atmost(goal - self._received)
        await self._write_pending()
        if self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)

    def key_partition(self, topic: str, key: bytes) -> TP:
        meta = _transport(self).topics.get(topic)
        partitions = meta.partitions if meta else self.app.conf.topic_partitions
        return TP(topic, self._partition(key, partitions))

    def supports_headers(self) -> bool:
        return True

    @Service.task
    async def _retention(self) -> None:
        """Delete what a topic with retention keeps no longer (windowed tables' changelogs)."""
        transport = _transport(self)
        while not self.should_stop:
            await self.sleep(transport.trim_interval)
            if self.should_stop:
                break
            try:
                await self.trim_expired()
            except Exception as error:  # a Redis hiccup: the next pass trims it
                logger.warning("retention pass failed: %r", error)

    async def trim_expired(self, now: float | None = None) -> int:
        """One retention pass over every topic with a retention; returns entries deleted."""
        transport = _transport(self)
        topics = await transport.load_topics(self.redis)
        now_ms = int((time.time() if now is None else now) * 1000)
        deleted = 0
        for name, meta in topics.items():
            if meta.retention_ms is None or not meta.deleting:
                continue
            for partition in range(meta.partitions):
                keys = [
                    transport.layout.stream(name, partition),
                    transport.layout.latest(name, partition),
                ]
                while True:
                    n = int(
                        await self._trim(keys=keys, args=[now_ms - meta.retention_ms, TRIM_BATCH])
                    )
                    deleted += n
                    if n < TRIM_BATCH:
                        break
        return deleted


class Consumer(_Client, BaseConsumer):
    """Reads active partitions with XREAD; membership and commits through `Group`."""

    transport: Transport
    consumer_stopped_errors: ClassVar[tuple[type[BaseException], ...]] = ()
    _group: Group | None = None

    def __post_init__(self) -> None:
        self._positions: dict[TP, int] = {}
        self._highwaters: dict[TP, int] = {}
        self._subscribed = asyncio.Event()
        self._client_tps: set[TP] = set()
        self.member = (
            f"{socket.gethostname()}:{os.getpid()}:{id(self):x}:{random.getrandbits(32):08x}"
        )

    @property
    def group(self) -> Group:
        if self._group is None:
            conf = self.app.conf
            self._group = Group(
                self.redis,
                _transport(self).layout,
                conf.id,
                self.member,
                cast(Assignor, self.app.assignor),
                self._partitions_of_subscribed,
                Timing(
                    heartbeat=min(float(conf.broker_heartbeat_interval), 1.0),
                    session=float(conf.broker_session_timeout),
                    rebalance=float(conf.broker_rebalance_timeout),
                ),
            )
        return self._group

    async def on_start(self) -> None:
        await _transport(self).check_server(self.redis)
        self._offsets_script = self.redis.register_script(scripts.OFFSETS)

    async def on_stop(self) -> None:
        await super().on_stop()  # commits what was processed
        if self._group is not None and not self.app.client_only:
            try:
                await self._group.leave()
            except Exception as error:  # expiry removes it instead
                logger.warning("could not leave group %s: %r", self._group.name, error)

    # -- subscription and the group ------------------------------------------------------

    async def subscribe(self, topics: Iterable[str]) -> None:
        """Subscribe to `topics` (created with the default partitions if unknown)."""
        transport = _transport(self)
        topics = set(topics)
        for topic in topics:
            await transport.topic(self.redis, topic)
        if self.app.client_only:
            self._client_tps = {
                TP(t, p) for t in topics for p in range(transport.topics[t].partitions)
            }
            for tp in self._client_tps:
                if tp not in self._positions:
                    self._positions[tp] = (await self.highwaters(tp))[tp]
        else:
            self.group.resubscribe(topics)
        self._subscribed.set()

    async def _partitions_of_subscribed(self) -> dict[str, int]:
        topics = await _transport(self).load_topics(self.redis)
        return {name: meta.partitions for name, meta in topics.items()}

    @Service.task
    async def _heartbeats(self) -> None:
        if self.app.client_only:
            return
        await self._subscribed.wait()
        group = self.group
        while not self.should_stop:
            try:
                await group.heartbeat()
            except Exception as error:  # Redis away: a session's worth of retries
                logger.warning("heartbeat of group %s failed: %r", group.name, error)
            await self.sleep(group.timing.poll if group.rebalancing else group.timing.heartbeat)

    @Service.task
    async def _rebalances(self) -> None:
        """Give up partitions on a new epoch, join it, apply its assignment."""
        if self.app.client_only:
            return
        await self._subscribed.wait()
        group = self.group
        state = group.state
        revoked_all = False
        while not self.should_stop:
            await group.changed.wait()
            group.changed.clear()
            try:
                if state.joined != state.epoch:
                    if not revoked_all:
                        self.app.on_rebalance_start()
                        await self.on_partitions_revoked(set(state.assigned))
                        state.assigned = set()
                        state.generation = None
                        revoked_all = True
                    await group.join()
                if state.joined == state.epoch:
                    assignment = await group.assignment()
                    if assignment is not None:
                        cast(Assignor, self.app.assignor).on_assignment(assignment)
                        tps = {TP(t, p) for t, ps in assignment.assignment for p in ps}
                        state.assigned = tps
                        state.generation = state.joined
                        for tp in tps:
                            self._positions.pop(tp, None)
                        self.app.consumer_generation_id = state.generation
                        revoked_all = False
                        await self.on_partitions_assigned(tps, state.generation)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.exception("rebalance of group %s failed: %r", group.name, error)
                await self.crash(error)
                return
            if group.rebalancing:
                await self.sleep(group.timing.poll)
                group.changed.set()

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """Commit what was processed before giving partitions up.

        Faust's base consumer forgets the acks of revoked partitions before the app waits
        for its streams and commits, so their next owner would process again everything
        since the last periodic commit. Here flow stops, in-flight events finish and their
        offsets are committed first (still under this member's generation)."""
        if revoked and not self.should_stop:
            self.stop_flow()
            self.app.flow_control.suspend()
            self.app.flow_control.clear()
            await self.wait_empty()
        await super().on_partitions_revoked(revoked)

    def assignment(self) -> set[TP]:
        if self.app.client_only:
            return set(self._client_tps)
        return set(self.group.state.assigned) if self._group is not None else set()

    # -- offsets -------------------------------------------------------------------------

    async def _commit(self, offsets: Mapping[TP, int]) -> bool:
        if self.app.client_only or not offsets:
            return False
        done = await self.group.commit(offsets)
        if done != 1:
            logger.info(
                "commit refused (%s): this member's generation was superseded; "
                "the messages will be processed again",
                "generation" if done == 0 else "ownership",
            )
        return done == 1

    async def seek_to_committed(self) -> Mapping[TP, int]:
        return await self._reset(self.assignment())

    async def _reset(self, tps: set[TP]) -> dict[TP, int]:
        """Position `tps` at their committed offsets, else as `consumer_auto_offset_reset`
        says (earliest or latest); returns the committed ones."""
        committed = await self.group.committed(tps) if not self.app.client_only else {}
        missing = [tp for tp in tps if tp not in committed]
        if missing:
            reset = self.app.conf.consumer_auto_offset_reset
            bounds = await self._bounds(missing)
            for tp in missing:
                low, high = bounds[tp]
                self._positions[tp] = high if reset == "latest" else low
        for tp, offset in committed.items():
            self._positions[tp] = offset
        return committed

    async def _seek(self, partition: TP, offset: int) -> None:
        self._positions[partition] = max(offset, 0)

    async def seek_wait(self, partitions: Mapping[TP, int]) -> None:
        for tp, offset in partitions.items():
            self._positions[tp] = max(offset, 0)
            if offset > 0:
                self._read_offset[tp] = offset
            else:
                self._read_offset.pop(tp, None)

    async def position(self, tp: TP) -> int | None:
        return self._positions.get(tp)

    async def _bounds(self, tps: Iterable[TP]) -> dict[TP, tuple[int, int]]:
        tps = list(tps)
        if not tps:
            return {}
        layout = _transport(self).layout
        reply = await self._offsets_script(keys=[layout.stream(*tp) for tp in tps], args=[])
        bounds = {tp: (int(low), int(high)) for tp, (low, high) in zip(tps, reply, strict=True)}
        for tp, (_, high) in bounds.items():
            self._highwaters[tp] = high
        return bounds

    async def earliest_offsets(self, *partitions: TP) -> Mapping[TP, int]:
        return {tp: low for tp, (low, _) in (await self._bounds(partitions)).items()}

    async def highwaters(self, *partitions: TP) -> Mapping[TP, int]:
        return {tp: high for tp, (_, high) in (await self._bounds(partitions)).items()}

    def highwater(self, tp: TP) -> int:
        return self._highwaters.get(tp, 0)

    # -- reading -------------------------------------------------------------------------

    async def _getmany(
        self,
        active_partitions: set[TP] | None,
        timeout: float,  # noqa: ASYNC109 - Faust's signature
    ) -> RecordMap:
        tps = sorted(active_partitions if active_partitions is not None else self.assignment())
        if not tps or not self.flow_active:
            await self.sleep(min(timeout, READ_BLOCK))
            return {}
        unknown = {tp for tp in tps if tp not in self._positions}
        if unknown:
            await self._reset(unknown)
        layout = _transport(self).layout
        streams: dict[Any, Any] = {
            layout.stream(*tp): f"0-{self._positions.get(tp, 0)}" for tp in tps
        }
        by_key = {layout.stream(*tp): tp for tp in tps}
        block = int(min(timeout, READ_BLOCK) * 1000)
        count = self.app.conf.broker_max_poll_records or 1000
        reply: Any = await self.redis.xread(streams, count=count, block=block or None)
        records: dict[TP, list[Record]] = {}
        for key, entries in reply or ():
            tp = by_key[key.decode()]
            if not entries or tp not in self._positions:
                continue
            batch = [record_of(tp.topic, tp.partition, i, f) for i, f in entries]
            records[tp] = batch
            self._positions[tp] = batch[-1].offset + 1
            self._highwaters[tp] = max(self._highwaters.get(tp, 0), batch[-1].offset + 1)
        return records

    def _new_topicpartition(self, topic: str, partition: int) -> TP:
        return TP(topic, partition)

    def _to_message(self, tp: TP, record: Any) -> ConsumerMessage:
        r = cast(Record, record)
        return ConsumerMessage(
            r.topic,
            r.partition,
            r.offset,
            r.timestamp_ms / 1000.0,
            0,
            r.headers,
            r.key,
            r.value,
            None,
            len(r.key) if r.key is not None else 0,
            len(r.value) if r.value is not None else 0,
            tp,
            generation_id=self.app.consumer_generation_id,
        )

    # -- topics --------------------------------------------------------------------------

    def topic_partitions(self, topic: str) -> int | None:
        meta = _transport(self).topics.get(topic)
        return meta.partitions if meta else None

    def key_partition(
        self, topic: str, key: bytes | None, partition: int | None = None
    ) -> int | None:
        partitions = self.topic_partitions(topic)
        if partitions is None:
            return None
        if partition is not None:
            if not 0 <= partition < partitions:
                raise ValueError(f"topic {topic!r} has no partition {partition}")
            return partition
        if key is None:
            return random.randrange(partitions)
        every = list(range(partitions))
        return int(DefaultPartitioner()(key, every, every))

    def close(self) -> None:
        """Nothing to close before stopping: the client closes when the consumer stops."""


Transport.Consumer = Consumer
Transport.Producer = Producer
