"""eaflow's ticks and results as Faust topics: `EaflowFeed`.

eaflow's streams carry time-based ids, Faust needs dense offsets, so they are not read in
place: a task of the Faust app reads `ticks:{symbol}` and `rtrs` as a consumer group
(`faust-feed:{app id}`, one copy of each entry across all the app's workers) and copies
each entry into a partition of `eaflow-ticks` (key: the symbol) or `eaflow-results` (key:
the instance), acking it in the same script that writes the copy: at least once, never
an ack without its copy. Entries a dead worker had read are claimed after `claim_idle`.

Values are JSON: a tick is MT5's `Tick` fields plus `symbol`; a result is eaflow's
`Result` as JSON. Example: ``feed = EaflowFeed(app, symbols=["EURUSD"])``, then
``@app.agent(feed.ticks)``.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import faust
import orjson
import redis.asyncio as aioredis
from aiokafka.partitioner import DefaultPartitioner
from mode import get_logger
from redis.exceptions import ResponseError

from eaflow.faust.transport import TopicMeta, Transport
from model.keys import Keys
from model.result import Result
from model.tick import FIELD, TickFormatError, decode_tick

logger = get_logger(__name__)

FEED = """
-- KEYS[1] source stream, KEYS[2] destination partition stream
-- ARGV[1] group, then 4 per entry: source id, timestamp ms, key, value.
-- Copies each entry into the partition (dense ids) and acks it, in one step.
for i = 2, #ARGV, 4 do
  redis.call('XADD', KEYS[2], '0-*', 't', ARGV[i + 1], 'k', ARGV[i + 2], 'v', ARGV[i + 3])
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
end
return (#ARGV - 1) / 4
"""

ACK = """
-- KEYS[1] source stream. ARGV[1] group, then ids: entries that cannot be copied (not a
-- tick or result eaflow wrote) are acked and dropped, with a log line.
for i = 2, #ARGV do redis.call('XACK', KEYS[1], ARGV[1], ARGV[i]) end
return #ARGV - 1
"""


class EaflowFeed:
    """Copies eaflow's `ticks:{symbol}` of `symbols` and (with `results`) `rtrs` into the
    Faust topics `ticks` and `results`, from entries added after the group was created."""

    def __init__(
        self,
        app: faust.App,
        *,
        symbols: Iterable[str],
        results: bool = True,
        prefix: str = "ea:",
        redis_url: str | None = None,
        ticks_topic: str = "eaflow-ticks",
        results_topic: str = "eaflow-results",
        batch: int = 500,
        claim_idle: float = 30.0,
    ) -> None:
        self.app = app
        self.symbols = sorted(set(symbols))
        self.keys = Keys(prefix)
        self.with_results = results
        self.redis_url = redis_url
        self.batch = batch
        self.claim_idle_ms = int(claim_idle * 1000)
        self.group = f"faust-feed:{app.conf.id}"
        self.consumer = f"{socket.gethostname()}:{os.getpid()}"
        self.ticks = app.topic(ticks_topic, key_type=str, value_serializer="json")
        self.results = app.topic(results_topic, key_type=str, value_serializer="json")
        self.copied = 0
        self.dropped = 0
        app.task(self.run)

    @property
    def sources(self) -> dict[str, str]:
        """Source stream → Faust topic."""
        out = {self.keys.ticks(s): self.ticks.get_topic_name() for s in self.symbols}
        if self.with_results:
            out[self.keys.rtrs] = self.results.get_topic_name()
        return out

    def transport(self) -> Transport:
        transport = self.app.transport
        if not isinstance(transport, Transport):
            raise TypeError("EaflowFeed needs the Redis transport (broker='redis://…')")
        return transport

    async def run(self) -> None:
        """The app's task: copy until the app stops (Redis errors are retried)."""
        transport = self.transport()
        client = aioredis.Redis.from_url(self.redis_url or transport.redis_url)
        try:
            metas = await self.prepare(client, transport)
            feed = client.register_script(FEED)
            ack = client.register_script(ACK)
            claim_at = 0.0
            while not self.app.should_stop:
                try:
                    loop_time = asyncio.get_running_loop().time()
                    if loop_time >= claim_at:
                        await self.claim(client, feed, ack, metas)
                        claim_at = loop_time + self.claim_idle_ms / 2000
                    streams: dict[Any, Any] = dict.fromkeys(self.sources, ">")
                    reply: Any = await client.xreadgroup(
                        self.group, self.consumer, streams, count=self.batch, block=200
                    )
                    for key, entries in reply or ():
                        await self.copy(feed, ack, key.decode(), entries, metas)
                except (OSError, aioredis.ConnectionError, aioredis.TimeoutError) as error:
                    logger.warning("eaflow feed: %r (retrying)", error)
                    await asyncio.sleep(1.0)
        finally:
            await client.aclose()

    async def prepare(self, client: aioredis.Redis, transport: Transport) -> dict[str, TopicMeta]:
        """Create the consumer groups (at the end of each stream) and the two topics."""
        metas: dict[str, TopicMeta] = {}
        for source, topic in self.sources.items():
            try:
                await client.xgroup_create(source, self.group, id="$", mkstream=True)
            except ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise
            if topic not in metas:
                metas[topic] = await transport.topic(client, topic)
        return metas

    async def claim(self, client: aioredis.Redis, feed: Any, ack: Any, metas: Any) -> None:
        """Copy what a dead worker of the app had read and not copied."""
        for source in self.sources:
            reply: Any = await client.xautoclaim(
                source, self.group, self.consumer, self.claim_idle_ms, "0-0", count=self.batch
            )
            entries = [e for e in reply[1] if e and e[1]]
            if entries:
                await self.copy(feed, ack, source, entries, metas)

    async def copy(
        self, feed: Any, ack: Any, source: str, entries: list[Any], metas: dict[str, TopicMeta]
    ) -> None:
        topic = self.sources[source]
        transport = self.transport()
        partitions = metas[topic].partitions
        by_partition: dict[int, list[Any]] = defaultdict(list)
        bad: list[Any] = []
        for entry_id, fields in entries:
            item = self.convert(source, fields)
            if item is None:
                bad.append(entry_id)
                continue
            key, value, ts = item
            every = list(range(partitions))
            partition = int(DefaultPartitioner()(key, every, every))
            by_partition[partition].append((entry_id, ts, key, value))
        for partition, items in by_partition.items():
            args: list[Any] = [self.group]
            for entry_id, ts, key, value in items:
                args += [entry_id, ts, key, value]
            await feed(keys=[source, transport.layout.stream(topic, partition)], args=args)
            self.copied += len(items)
        if bad:
            logger.warning(
                "eaflow feed: %s entries of %s are not eaflow's: dropped", len(bad), source
            )
            await ack(keys=[source], args=[self.group, *bad])
            self.dropped += len(bad)

    def convert(self, source: str, fields: dict[bytes, bytes]) -> tuple[bytes, bytes, int] | None:
        """(key, JSON value, timestamp ms) of an eaflow entry, None if it is not one."""
        raw = fields.get(FIELD)
        if raw is None:
            return None
        if source == self.keys.rtrs:
            try:
                result = Result.model_validate_json(raw)
            except ValueError:
                return None
            value = result.model_dump(mode="json")
            return result.instance.encode(), orjson.dumps(value), int(result.done_at * 1000)
        try:
            tick = decode_tick(raw)
        except TickFormatError:
            return None
        symbol = source[len(self.keys.ticks("")) :]
        value = {"symbol": symbol, **tick._asdict()}
        return symbol.encode(), orjson.dumps(value), tick.time_msc
