"""`batch="columns"` agents on the real Redis: the handler gets undecoded ids and payloads
per stream, its writes commit with every ack, and a failure keeps the runtime's guarantees
(the whole batch pending and retried, failures recorded, dead letters, metrics)."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
import pytest
import redis.asyncio as aioredis
from prometheus_client import REGISTRY

from streams import App, Columns, Defer, Outbox
from tests.redis_server import RedisServer
from tests.streams.conftest import add, entries, hash_text, pending, settings, until, values

Seen = list[dict[str, tuple[list[str], list[bytes]]]]


def text_ids(columns: Mapping[str, Columns]) -> dict[str, tuple[list[str], list[bytes]]]:
    """What a handler was given, ids as text."""
    return {
        stream: ([i.decode() if isinstance(i, bytes) else i for i in found.ids], found.data)
        for stream, found in columns.items()
    }


def processed(stream: str, group: str) -> float:
    labels = {"stream": stream, "group": group}
    return REGISTRY.get_sample_value("eaflow_stream_events_processed_total", labels) or 0.0


async def test_columns_commit_with_every_ack(app: App, r: aioredis.Redis) -> None:
    a, b, sink = app.topic("a"), app.topic("b"), app.topic("out")
    seen: Seen = []

    @app.agent([a, b], group="g", batch="columns")
    async def copy(columns: Mapping[str, Columns], out: Outbox) -> None:
        seen.append(text_ids(columns))
        for found in columns.values():
            out.call("INCRBY", "t:count", len(found))
            for data in found.data:
                out.send(sink, orjson.loads(data))

    before = processed("t:a", "g")
    ids_a = await a.send_many([{"n": n} for n in range(3)])
    ids_b = await b.send_many(["x"])
    await app.start()

    async def done() -> bool:
        return await r.get("t:count") == b"4"

    await until(done)
    assert seen == [
        {"t:a": (ids_a, [b'{"n":0}', b'{"n":1}', b'{"n":2}']), "t:b": (ids_b, [b'"x"'])}
    ]
    assert await pending(r, "t:a", "g") == 0
    assert await pending(r, "t:b", "g") == 0
    assert await values(r, "t:out") == [b'{"n":0}', b'{"n":1}', b'{"n":2}', b'"x"']
    assert processed("t:a", "g") == before + 3


async def test_a_failed_batch_stays_pending_whole_and_is_handed_again(
    app: App, r: aioredis.Redis
) -> None:
    source = app.topic("in")
    seen: Seen = []

    @app.agent(source, group="g", batch="columns")
    async def flaky(columns: Mapping[str, Columns], out: Outbox) -> None:
        seen.append(text_ids(columns))
        out.call("INCR", "t:calls")
        if len(seen) <= 2:
            raise RuntimeError("sink down")
        out.call("SET", "t:stored", sum(len(found) for found in columns.values()))

    ids = await source.send_many(list(range(5)))
    await app.start()

    async def stored() -> bool:
        return await r.get("t:stored") == b"5"

    await until(stored)
    handed = ({"t:in": (ids, [b"%d" % n for n in range(5)])},) * 3
    assert tuple(seen) == handed, "the same entries each time, none acked before success"
    assert await r.get("t:calls") == b"1", "a failed call's writes never commit"
    assert await pending(r, "t:in", "g") == 0
    assert await r.exists("t:fails:in:g") == 0, "the failure records are forgotten"


async def test_a_batch_failing_every_time_is_dead_lettered_whole(
    redis_url: str, r: aioredis.Redis
) -> None:
    app = App(settings(redis_url, max_deliveries=2))
    source = app.topic("in")

    @app.agent(source, group="g", batch="columns")
    async def broken(columns: Mapping[str, Columns], out: Outbox) -> None:
        raise RuntimeError("always")

    await source.send_many(["x", "y"])
    await app.start()
    try:

        async def dead() -> bool:
            return await r.xlen("t:dlq:in") == 2

        await until(dead)
        letters = [fields for _, fields in await entries(r, "t:dlq:in")]
        assert [f[b"d"] for f in letters] == [b'"x"', b'"y"']
        assert {f[b"error"] for f in letters} == {b"RuntimeError: always"}
        assert await pending(r, "t:in", "g") == 0
    finally:
        await app.stop()


async def test_a_refused_commit_acks_nothing_and_is_retried(
    redis_url: str, r: aioredis.Redis
) -> None:
    app = App(settings(redis_url, max_deliveries=1000))
    source, sink = app.topic("in"), app.topic("out")
    await r.set("t:out", "not a stream")

    @app.agent(source, group="g", batch="columns")
    async def copy(columns: Mapping[str, Columns], out: Outbox) -> None:
        for found in columns.values():
            for data in found.data:
                out.send(sink, orjson.loads(data))

    entry_id = await source.send("v")
    await app.start()
    try:

        async def retried_twice() -> bool:
            return int(await hash_text(r, "t:fails:in:g", entry_id) or 0) >= 2

        await until(retried_twice)
        assert "WRONGTYPE" in await hash_text(r, "t:fails:in:g", f"{entry_id}:error")
        assert await pending(r, "t:in", "g") == 1
        await r.delete("t:out")

        async def through() -> bool:
            return await r.exists("t:out") == 1 and await pending(r, "t:in", "g") == 0

        await until(through)
        assert await values(r, "t:out") == [b'"v"']
    finally:
        await app.stop()


async def test_a_deferred_batch_waits_uncounted(app: App, r: aioredis.Redis) -> None:
    source = app.topic("in")
    calls = 0

    @app.agent(source, group="g", batch="columns")
    async def later(columns: Mapping[str, Columns], out: Outbox) -> None:
        nonlocal calls
        calls += 1
        if calls <= 3:
            raise Defer(0.01, "broker away")
        out.call("SET", "t:done", "1")

    entry_id = await source.send(1)
    await app.start()

    async def done() -> bool:
        return await r.get("t:done") == b"1"

    await until(done)
    assert calls == 4
    assert await hash_text(r, "t:fails:in:g", entry_id) == ""
    assert await pending(r, "t:in", "g") == 0


async def test_entries_left_pending_by_a_previous_life_come_as_columns(
    redis_url: str, r: aioredis.Redis
) -> None:
    await r.xgroup_create("t:in", "g", id="0", mkstream=True)
    first = await add(r, "t:in", {b"d": b"1"})
    odd = await add(r, "t:in", {b"other": b"x"})  # no `d`: dead-lettered, as per event
    extra = await add(r, "t:in", {b"d": b"3", b"more": b"y"})
    await r.xreadgroup("g", "w1", {"t:in": ">"})  # a previous life of w1 died here
    late = await add(r, "t:in", {b"d": b"4", b"more": b"z"})  # not a lone `d`: as entries
    app = App(settings(redis_url, consumer="w1"))
    seen: Seen = []

    @app.agent(app.topic("in"), group="g", batch="columns")
    async def copy(columns: Mapping[str, Columns], out: Outbox) -> None:
        seen.append(text_ids(columns))

    await app.start()
    try:

        async def done() -> bool:
            return await pending(r, "t:in", "g") == 0 and len(seen) == 2

        await until(done)
        assert seen == [{"t:in": ([first, extra], [b"1", b"3"])}, {"t:in": ([late], [b"4"])}]
        [(_, letter)] = await entries(r, "t:dlq:in")
        assert (letter[b"id"], letter[b"error"]) == (odd.encode(), b"d: field is missing")
    finally:
        await app.stop()


async def test_a_columns_agent_survives_a_redis_restart(
    redis_server: RedisServer, redis_url: str, r: aioredis.Redis
) -> None:
    app = App(settings(redis_url))
    source = app.topic("in")

    @app.agent(source, group="g", batch="columns")
    async def count(columns: Mapping[str, Columns], out: Outbox) -> None:
        out.call("INCRBY", "t:count", sum(len(found) for found in columns.values()))

    await app.start()
    try:
        await source.send(1)

        async def counted(n: int) -> bool:
            return await r.get("t:count") == b"%d" % n

        await until(lambda: counted(1))
        redis_server.restart()  # without persistence: the data and the group are gone
        await r.connection_pool.disconnect()
        await source.send(2)
        await until(lambda: counted(1), what="the entry written after the restart")
        assert await pending(r, "t:in", "g") == 0
    finally:
        await app.stop()


def test_an_exclusive_agent_cannot_take_columns(app: App) -> None:
    async def handler(columns: Mapping[str, Columns], out: Outbox) -> None:
        return None

    register = app.agent(app.topic("in"), group="g", batch="columns", exclusive=True)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="exclusive: needs a handler per event or per stream"):
        register(handler)
