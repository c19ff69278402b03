"""Stream batches (`batch="streams"`): one handler call per read, a verdict per event, one
commit unit per stream, and optimistic `EXPECT`s that send a stream's work around again."""

from __future__ import annotations

import redis.asyncio as aioredis

from streams import App, Batch, Defer
from tests.streams.conftest import hash_text, pending, until, values


async def test_a_batch_commits_each_stream_with_its_acks(app: App, r: aioredis.Redis) -> None:
    a, b, sink = app.topic("a"), app.topic("b"), app.topic("out")
    calls: list[dict[str, int]] = []

    @app.agent([a, b], group="g", batch="streams")
    async def copy(batch: Batch[object]) -> None:
        calls.append({stream: len(events) for stream, events in batch.streams.items()})
        for stream, events in batch.streams.items():
            out = batch.outbox(stream)
            for event in events:
                out.send(sink, event.value)

    await a.send_many(["a1", "a2", "a3"])
    await b.send_many(["b1", "b2"])
    await app.start()

    async def copied() -> bool:
        return await r.xlen("t:out") == 5

    await until(copied, "both streams copied")
    assert calls[0] == {"t:a": 3, "t:b": 2}  # one call for the whole read
    assert sorted(await values(r, "t:out")) == [b'"a1"', b'"a2"', b'"a3"', b'"b1"', b'"b2"']
    assert await pending(r, "t:a", "g") == 0 and await pending(r, "t:b", "g") == 0


async def test_a_deferred_event_holds_its_stream_only(app: App, r: aioredis.Redis) -> None:
    a, b, sink = app.topic("a"), app.topic("b"), app.topic("out")
    away = True

    @app.agent([a, b], group="g", batch="streams")
    async def trade(batch: Batch[object]) -> None:
        for stream, events in batch.streams.items():
            out = batch.outbox(stream)
            for event in events:
                if event.value == "a2" and away:
                    batch.defer(event, Defer(0.05, "broker away"))
                    break
                out.send(sink, event.value)

    await a.send_many(["a1", "a2", "a3"])
    await b.send_many(["b1"])
    await app.start()

    async def held() -> bool:
        return await r.xlen("t:out") == 2

    await until(held, "a1 and b1 through, a2 deferred")
    assert sorted(await values(r, "t:out")) == [b'"a1"', b'"b1"']
    assert await pending(r, "t:a", "g") == 2  # a2 and a3 wait, in order
    away = False

    async def through() -> bool:
        return await r.xlen("t:out") == 4

    await until(through, "a2 and a3 after the deferral")
    assert (await values(r, "t:out"))[2:] == [b'"a2"', b'"a3"']
    assert await r.hgetall("t:fails:a:g") == {}  # a deferral is not a failure


async def test_a_failed_event_is_retried_and_a_poisoned_one_dead_lettered(
    app: App, r: aioredis.Redis
) -> None:
    a, sink = app.topic("a"), app.topic("out")
    tries: dict[str, int] = {}

    @app.agent(a, group="g", batch="streams")
    async def trade(batch: Batch[object]) -> None:
        for stream, events in batch.streams.items():
            out = batch.outbox(stream)
            for event in events:
                value = str(event.value)
                tries[value] = tries.get(value, 0) + 1
                if value == "bad":
                    batch.poison(event, "volume: must be greater than 0")
                elif value == "flaky" and tries[value] < 3:
                    batch.fail(event, "ConnectionResetError")
                    break
                else:
                    out.send(sink, value)

    await a.send_many(["ok", "bad", "flaky", "after"])
    await app.start()

    async def done() -> bool:
        return await r.xlen("t:out") == 3

    await until(done, "ok, flaky (third try) and after")
    assert await values(r, "t:out") == [b'"ok"', b'"flaky"', b'"after"']
    assert tries == {"ok": 1, "bad": 1, "flaky": 3, "after": 1}  # after waited behind flaky
    letters = await values(r, "t:dlq:a")
    assert letters == [b'"bad"']
    assert await pending(r, "t:a", "g") == 0


async def test_a_broken_expectation_sends_the_stream_around_again(
    app: App, r: aioredis.Redis
) -> None:
    """Optimistic locking: the unit of a stream whose EXPECT no longer holds writes nothing
    and its events come back at once, uncounted, to a handler that rereads."""
    a, sink = app.topic("a"), app.topic("out")
    await r.hset("t:acct", "version", "1")
    seen: list[str] = []

    @app.agent(a, group="g", batch="streams")
    async def trade(batch: Batch[object]) -> None:
        version = await hash_text(r, "t:acct", "version")
        seen.append(version)
        if len(seen) == 1:
            await r.hset("t:acct", "version", "2")  # another writer moves the account
        for stream, events in batch.streams.items():
            out = batch.outbox(stream)
            out.expect("t:acct", "version", version)
            out.call("HINCRBY", "t:acct", "version", 1)
            for event in events:
                out.send(sink, f"{event.value}@{version}")

    await a.send_many(["x", "y"])
    await app.start()

    async def written() -> bool:
        return await r.xlen("t:out") == 2

    await until(written, "the second attempt")
    assert seen[:2] == ["1", "2"]
    assert await values(r, "t:out") == [b'"x@2"', b'"y@2"']
    assert await hash_text(r, "t:acct", "version") == "3"
    assert await r.hgetall("t:fails:a:g") == {}
