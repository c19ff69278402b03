"""Agents on the real Redis: outputs commit with acks, failures retry in order, DLQ, stop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest
import redis.asyncio as aioredis
from prometheus_client import REGISTRY
from pydantic import BaseModel
from redis.exceptions import ConnectionError as RedisConnectionError

from streams import App, Defer, Event, ModelCodec, Outbox, Poison
from tests.redis_server import RedisServer
from tests.streams.conftest import add, entries, hash_text, pending, settings, until, values


class Trade(BaseModel):
    symbol: str
    volume: float


def sample(name: str, stream: str, group: str) -> float:
    return REGISTRY.get_sample_value(name, {"stream": stream, "group": group}) or 0.0


async def test_outputs_commit_with_the_ack(app: App, r: aioredis.Redis) -> None:
    source, sink = app.topic("in"), app.topic("out")
    seen: list[Event[object]] = []

    @app.agent(source, group="g")
    async def double(event: Event[object], out: Outbox) -> None:
        seen.append(event)
        assert isinstance(event.value, dict)
        out.send(sink, {"n": event.value["n"] * 2})
        out.call("HSET", "t:seen", event.id, event.value["n"])

    before = sample("eaflow_stream_events_processed_total", "t:in", "g")
    batches = REGISTRY.get_sample_value("eaflow_stream_batch_seconds_count", {"group": "g"}) or 0
    await app.start()
    ids = await source.send_many([{"n": i} for i in range(5)])

    async def all_out() -> bool:
        return await r.xlen("t:out") == 5

    await until(all_out)
    assert await values(r, "t:out") == [b'{"n":%d}' % (2 * i) for i in range(5)]
    assert await r.hgetall("t:seen") == {i.encode(): b"%d" % n for n, i in enumerate(ids)}
    assert await pending(r, "t:in", "g") == 0
    assert [(e.id, e.stream, e.deliveries, e.topic) for e in seen] == [
        (i, "t:in", 1, source) for i in ids
    ]
    assert seen[0].raw == b'{"n":0}'
    assert sample("eaflow_stream_events_processed_total", "t:in", "g") == before + 5
    labels = {"group": "g"}
    assert (REGISTRY.get_sample_value("eaflow_stream_batch_seconds_count", labels) or 0) > batches


async def test_output_to_a_wrong_type_key_writes_and_acks_nothing(
    redis_url: str, r: aioredis.Redis
) -> None:
    app = App(settings(redis_url, max_deliveries=1000))
    source, sink = app.topic("in"), app.topic("out")
    await r.set("t:out", "not a stream")

    @app.agent(source, group="g")
    async def copy(event: Event[object], out: Outbox) -> None:
        out.call("HSET", "t:side", event.id, "written")
        out.send(sink, event.value)

    await app.start()
    try:
        entry_id = await source.send({"n": 1})

        async def retried_twice() -> bool:
            return int(await hash_text(r, "t:fails:in:g", entry_id) or 0) >= 2

        await until(retried_twice)
        error = await hash_text(r, "t:fails:in:g", f"{entry_id}:error")
        assert "WRONGTYPE t:out holds a string" in error
        assert await r.get("t:out") == b"not a stream"
        assert await r.exists("t:side") == 0
        assert await pending(r, "t:in", "g") == 1

        await r.delete("t:out")  # the operator fixes the key: the entry goes through once

        async def committed() -> bool:
            return await pending(r, "t:in", "g") == 0

        await until(committed)
        assert await values(r, "t:out") == [b'{"n":1}']
        assert await r.hget("t:side", entry_id) == b"written"
        assert await r.exists("t:fails:in:g") == 0
    finally:
        await app.stop()


async def test_a_failure_holds_its_stream_in_order_while_others_go_on(
    app: App, r: aioredis.Redis
) -> None:
    a, b, sink = app.topic("a"), app.topic("b"), app.topic("out")
    healed = asyncio.Event()
    failures = 0

    @app.agent([a, b], group="g")
    async def copy(event: Event[object], out: Outbox) -> None:
        nonlocal failures
        if event.value == "a2" and not healed.is_set():
            failures += 1
            raise RuntimeError("broker down")
        out.send(sink, event.value)

    for n in (1, 2, 3):  # the same ids in both streams: ids are only unique per stream
        await add(r, "t:a", {b"d": b'"a%d"' % n}, f"1-{n}")
    for n in (1, 2):
        await add(r, "t:b", {b"d": b'"b%d"' % n}, f"1-{n}")
    await app.start()

    async def b_done_while_a_fails() -> bool:
        return await pending(r, "t:b", "g") == 0 and failures >= 2

    await until(b_done_while_a_fails)
    assert await pending(r, "t:a", "g") == 2, "a2 and a3 wait for a2"
    healed.set()

    async def all_done() -> bool:
        return await pending(r, "t:a", "g") == 0

    await until(all_done)
    out = [v.decode().strip('"') for v in await values(r, "t:out")]
    assert [v for v in out if v.startswith("a")] == ["a1", "a2", "a3"]
    assert sorted(out) == ["a1", "a2", "a3", "b1", "b2"]


async def test_a_deferred_entry_waits_uncounted_while_others_go_on(
    redis_url: str, r: aioredis.Redis
) -> None:
    """`Defer` puts an entry off (its broker is away): deferred far more often than
    max_deliveries, it is never counted nor dead-lettered; its stream keeps its order."""
    app = App(settings(redis_url, max_deliveries=2))
    a, b, sink = app.topic("a"), app.topic("b"), app.topic("out")
    ready = asyncio.Event()
    deferrals: list[int] = []

    @app.agent([a, b], group="g")
    async def copy(event: Event[object], out: Outbox) -> None:
        if event.value == "a1" and not ready.is_set():
            deferrals.append(event.deliveries)
            raise Defer(0.02, "broker unavailable")
        out.send(sink, event.value)

    before = sample("eaflow_stream_events_deferred_total", "t:a", "g")
    await a.send_many(["a1", "a2"])
    await b.send_many(["b1", "b2"])
    await app.start()
    try:

        async def b_done_while_a_waits() -> bool:
            return await pending(r, "t:b", "g") == 0 and len(deferrals) > 5

        await until(b_done_while_a_waits)
        assert await pending(r, "t:a", "g") == 2, "a2 waits behind a1"
        assert await r.exists("t:fails:a:g", "t:dlq:a") == 0
        assert set(deferrals) == {1}, "a deferral is not a delivery that failed"
        assert sample("eaflow_stream_events_deferred_total", "t:a", "g") >= before + 5
        ready.set()

        async def a_done() -> bool:
            return await pending(r, "t:a", "g") == 0

        await until(a_done)
        out = [v.decode().strip('"') for v in await values(r, "t:out")]
        assert out[:2] == ["b1", "b2"] and out[2:] == ["a1", "a2"]
    finally:
        await app.stop()


async def test_a_handler_losing_redis_is_retried_uncounted(
    redis_url: str, r: aioredis.Redis
) -> None:
    """A handler whose own Redis link drops (a restart resets it) is not the entry's fault:
    more such failures than max_deliveries neither count nor dead-letter the entry."""
    app = App(settings(redis_url, max_deliveries=2))
    source, sink = app.topic("in"), app.topic("out")
    resets: list[int] = []

    @app.agent(source, group="g")
    async def copy(event: Event[object], out: Outbox) -> None:
        if len(resets) < 5:
            resets.append(event.deliveries)
            raise RedisConnectionError("Error while reading: Connection reset by peer")
        out.send(sink, event.value)

    await source.send("x")
    await app.start()
    try:

        async def copied() -> bool:
            return await r.xlen("t:out") == 1

        await until(copied)
        assert resets == [1] * 5
        assert await r.exists("t:fails:in:g", "t:dlq:in") == 0
        assert await pending(r, "t:in", "g") == 0
    finally:
        await app.stop()


def test_a_deferral_needs_a_positive_delay() -> None:
    with pytest.raises(ValueError, match="after: must be positive"):
        Defer(0)


async def test_streams_of_a_batch_are_handled_concurrently(app: App, r: aioredis.Redis) -> None:
    a, b = app.topic("a"), app.topic("b")
    b_started = asyncio.Event()
    await a.send("x")
    await b.send("y")

    @app.agent([a, b], group="g")
    async def meet(event: Event[object], out: Outbox) -> None:
        if event.stream == "t:a":  # would wait forever if b's handler ran only after it
            await asyncio.wait_for(b_started.wait(), timeout=5)
        else:
            b_started.set()
        out.call("SADD", "t:met", event.stream)

    await app.start()

    async def both() -> bool:
        return await r.scard("t:met") == 2

    await until(both)
    assert await r.exists("t:fails:a:g") == 0


async def test_serial_agent_handles_one_stream_at_a_time(app: App, r: aioredis.Redis) -> None:
    a, b = app.topic("a"), app.topic("b")
    await a.send_many([1, 2])
    await b.send_many([1, 2])
    trace: list[str] = []

    @app.agent([a, b], group="g", concurrency="serial")
    async def step(event: Event[object], out: Outbox) -> None:
        trace.append(f"start {event.stream}")
        await asyncio.sleep(0.01)
        trace.append(f"end {event.stream}")
        out.call("INCR", "t:steps")

    await app.start()

    async def done() -> bool:
        return await r.get("t:steps") == b"4"

    await until(done)
    assert trace[0::2] == [s.replace("end", "start") for s in trace[1::2]], "no overlap"


async def test_dead_letter_after_max_deliveries(redis_url: str, r: aioredis.Redis) -> None:
    app = App(settings(redis_url, max_deliveries=3))
    source, sink = app.topic("in"), app.topic("out")
    attempts: list[int] = []

    @app.agent(source, group="g")
    async def fragile(event: Event[object], out: Outbox) -> None:
        if event.value == "bad":
            attempts.append(event.deliveries)
            raise ValueError("boom")
        out.send(sink, event.value)

    before = sample("eaflow_stream_events_dead_lettered_total", "t:in", "g")
    await app.start()
    try:
        ids = await source.send_many(["ok1", "bad", "ok2"])

        async def done() -> bool:
            return await r.xlen("t:out") == 2

        await until(done)
        assert attempts == [1, 2, 3]
        [(_, letter)] = await entries(r, "t:dlq:in")
        assert letter[b"d"] == b'"bad"'
        assert letter[b"stream"] == b"t:in"
        assert letter[b"group"] == b"g"
        assert letter[b"id"] == ids[1].encode()
        assert letter[b"error"] == b"ValueError: boom"
        assert letter[b"deliveries"] == b"3"
        assert int(letter[b"ts"]) > 0
        assert await values(r, "t:out") == [b'"ok1"', b'"ok2"']
        assert await pending(r, "t:in", "g") == 0
        assert await r.exists("t:fails:in:g") == 0
        assert sample("eaflow_stream_events_dead_lettered_total", "t:in", "g") == before + 1
    finally:
        await app.stop()


async def test_undecodable_entry_goes_to_the_dlq_at_once(app: App, r: aioredis.Redis) -> None:
    trades = app.topic("trades", codec=ModelCodec(Trade))
    seen: list[Trade] = []

    @app.agent(trades, group="g")
    async def book(event: Event[Trade], out: Outbox) -> None:
        seen.append(event.value)

    await app.start()
    await r.xadd("t:trades", {"d": b'{"symbol": "EURUSD", "volume": "lots"}'})
    await r.xadd("t:trades", {"x": b"no d field"})
    await r.xadd("t:trades", {"d": b"{not json"})
    await trades.send(Trade(symbol="EURUSD", volume=0.1))

    async def handled() -> bool:
        return len(seen) == 1 and await r.xlen("t:dlq:trades") == 3

    await until(handled)
    letters = [fields for _, fields in await entries(r, "t:dlq:trades")]
    assert letters[0][b"error"].startswith(b"volume: Input should be a valid number")
    assert letters[1][b"error"] == b"d: field is missing"
    assert letters[2][b"error"].startswith(b"d: Invalid JSON")
    assert all(fields[b"deliveries"] == b"1" for fields in letters)
    assert seen == [Trade(symbol="EURUSD", volume=0.1)]


async def test_raising_poison_skips_the_retries(app: App, r: aioredis.Redis) -> None:
    source = app.topic("in")
    calls = 0

    @app.agent(source, group="g")
    async def strict(event: Event[object], out: Outbox) -> None:
        nonlocal calls
        calls += 1
        raise Poison("volume: must be greater than 0")

    await app.start()
    await source.send({"volume": 0})

    async def dead() -> bool:
        return await r.xlen("t:dlq:in") == 1

    await until(dead)
    [(_, letter)] = await entries(r, "t:dlq:in")
    assert letter[b"error"] == b"volume: must be greater than 0"
    assert calls == 1
    assert await pending(r, "t:in", "g") == 0


async def test_batch_agent_retries_until_the_sink_is_back(app: App, r: aioredis.Redis) -> None:
    source = app.topic("results")
    stored: list[object] = []
    calls = 0

    @app.agent(source, group="sink", batch=True, dlq=False, batch_size=4)
    async def sink(events: list[Event[object]], out: Outbox) -> None:
        nonlocal calls
        calls += 1
        if calls <= 8:  # more failures than max_deliveries: still no DLQ
            raise ConnectionError("sink down")
        stored.extend(e.value for e in events)
        out.call("INCRBY", "t:stored", len(events))

    await app.start()
    await source.send_many(list(range(6)))

    async def failing() -> bool:
        return calls >= 3

    await until(failing)
    await source.send_many(list(range(6, 10)))  # arrives while the sink is down

    async def caught_up() -> bool:
        return await r.get("t:stored") == b"10"

    await until(caught_up)
    assert stored == list(range(10)), "every result once, in order"
    assert await pending(r, "t:results", "sink") == 0
    assert await r.exists("t:dlq:results") == 0
    assert await r.exists("t:fails:results:sink") == 0


async def test_batch_agent_with_dlq_gives_up_on_the_whole_batch(
    redis_url: str, r: aioredis.Redis
) -> None:
    app = App(settings(redis_url, max_deliveries=2))
    source = app.topic("in")

    @app.agent(source, group="g", batch=True)
    async def broken(events: list[Event[object]], out: Outbox) -> None:
        raise RuntimeError("always")

    await app.start()
    try:
        await source.send_many(["x", "y"])

        async def dead() -> bool:
            return await r.xlen("t:dlq:in") == 2

        await until(dead)
        assert await pending(r, "t:in", "g") == 0
        letters = [fields for _, fields in await entries(r, "t:dlq:in")]
        assert [f[b"d"] for f in letters] == [b'"x"', b'"y"']
        assert {f[b"deliveries"] for f in letters} == {b"2"}
    finally:
        await app.stop()


async def test_stop_finishes_and_commits_the_batch_in_hand(app: App, r: aioredis.Redis) -> None:
    source, sink = app.topic("in"), app.topic("out")
    handling = asyncio.Event()

    @app.agent(source, group="g")
    async def slow(event: Event[object], out: Outbox) -> None:
        handling.set()
        await asyncio.sleep(0.3)
        out.send(sink, event.value)

    await app.start()
    await source.send("last words")
    await asyncio.wait_for(handling.wait(), timeout=10)
    await app.stop()
    assert await values(r, "t:out") == [b'"last words"']
    assert await pending(r, "t:in", "g") == 0


async def test_own_pending_entries_are_read_again_after_a_restart(
    redis_url: str, r: aioredis.Redis
) -> None:
    await r.xgroup_create("t:in", "g", id="0", mkstream=True)
    for n in range(3):
        await add(r, "t:in", {b"d": b"%d" % n})
    await r.xreadgroup("g", "w1", {"t:in": ">"}, count=2)  # a previous life of w1 died here
    app = App(settings(redis_url, consumer="w1"))
    source, sink = app.topic("in"), app.topic("out")
    seen: list[tuple[object, int]] = []

    @app.agent(source, group="g")
    async def copy(event: Event[object], out: Outbox) -> None:
        seen.append((event.value, event.deliveries))
        out.send(sink, event.value)

    await app.start()
    try:

        async def done() -> bool:
            return await r.xlen("t:out") == 3

        await until(done)
        assert seen == [(0, 1), (1, 1), (2, 1)]
        assert await values(r, "t:out") == [b"0", b"1", b"2"]
        assert await r.exists("t:fails:in:g") == 0, "attempt counts are dropped once done"
    finally:
        await app.stop()


async def test_lost_group_is_created_again(app: App, r: aioredis.Redis) -> None:
    source = app.topic("in")

    @app.agent(source, group="g")
    async def count(event: Event[object], out: Outbox) -> None:
        out.call("INCR", "t:count")

    await app.start()
    await source.send(1)

    async def counted(n: int) -> bool:
        return await r.get("t:count") == b"%d" % n

    await until(lambda: counted(1))
    await r.flushall()  # Redis restarted without its data
    await source.send(2)
    await until(lambda: counted(1), what="the entry written after the loss")
    assert await pending(r, "t:in", "g") == 0


@pytest.mark.parametrize("bad", [{"group": ""}, {"batch_size": 0}])
def test_bad_agent_options_name_the_field(redis_url: str, bad: dict[str, object]) -> None:
    app = App(settings(redis_url))
    options: dict[str, object] = {"group": "g", **bad}
    with pytest.raises(ValueError, match=next(iter(bad))):
        app.agent(app.topic("in"), **options)(noop)  # type: ignore[call-overload]


async def noop(event: Event[object], out: Outbox) -> None:
    return None


async def test_agent_survives_a_redis_restart(
    app: App, r: aioredis.Redis, redis_server: RedisServer
) -> None:
    source = app.topic("in")

    @app.agent(source, group="g")
    async def count(event: Event[object], out: Outbox) -> None:
        out.call("INCR", "t:count")

    await app.start()
    await source.send(1)

    async def counted() -> bool:
        return await r.get("t:count") == b"1"

    await until(counted)
    redis_server.restart()  # without persistence: the data and the group are gone
    await r.connection_pool.disconnect()
    await source.send(2)
    await until(counted, "the entry written after the restart")
    assert await pending(r, "t:in", "g") == 0


@pytest.mark.parametrize("batch", [False, True, "streams", "columns"])
async def test_restarts_while_an_entry_is_deferred_never_dead_letter_it(
    redis_url: str, r: aioredis.Redis, batch: bool | str
) -> None:
    """Regression: an entry a worker finds pending at its start (or after a lost link) has
    its attempt counted before it runs, in case it is what kills workers; a handler that
    then lost Redis (or deferred it) left that count behind, so a few restarts while the
    entry waited dead-lettered it: acked, and no output ever (an order without a result).
    A deferral takes its counted attempt back."""
    sink = "t:out"
    await add(r, "t:in", {b"d": b'"x"'})
    tries: list[int] = []
    for _ in range(4):  # more starts than max_deliveries, each attempt losing Redis
        app = App(settings(redis_url, max_deliveries=2, consumer="c1"))
        started = len(tries)

        async def away(events: Any, out: Any = None) -> None:
            tries.append(len(tries))
            raise RedisConnectionError("Connection closed by the server before write")

        app.agent(app.topic("in"), group="g", batch=batch)(away)  # type: ignore[call-overload]
        await app.start()
        try:
            await until(lambda: _more(tries, started), "an attempt that loses Redis")  # noqa: B023
        finally:
            await app.stop()
    app = App(settings(redis_url, max_deliveries=2, consumer="c1"))

    async def copy(events: Any, out: Any = None) -> None:
        if batch == "streams":
            for stream, found in events.streams.items():
                for event in found:
                    events.outbox(stream).call("RPUSH", sink, event.value)
        elif batch == "columns":
            for found in events.values():
                for data in found.data:
                    out.call("RPUSH", sink, data)
        elif batch:
            for event in events:
                out.call("RPUSH", sink, event.value)
        else:
            out.call("RPUSH", sink, events.value)

    app.agent(app.topic("in"), group="g", batch=batch)(copy)  # type: ignore[call-overload]
    await app.start()
    try:
        await until(lambda: _equals(r.llen(sink), 1), "the entry handled at last")
    finally:
        await app.stop()
    assert await r.exists("t:dlq:in", "t:fails:in:g") == 0
    assert await pending(r, "t:in", "g") == 0


async def _more(tries: list[int], than: int) -> bool:
    return len(tries) > than


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected
