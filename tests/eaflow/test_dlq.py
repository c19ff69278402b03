"""Dead letters on a real Redis: an agent gives up on an entry, an operator fixes and retries it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from eaflow.dlq import DeadLetters, UnknownDeadLetter, parse_letter
from streams import App, Event, Outbox
from tests.streams.conftest import add, settings, until, values


@pytest.fixture
async def r(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def letters(r: aioredis.Redis) -> DeadLetters:
    return DeadLetters(r, "t:")


async def fragile_app(redis_url: str, handled: list[object]) -> App:
    """An agent that fails while `t:broken` is set, like a worker with a broken dependency."""
    app = App(settings(redis_url, max_deliveries=3))
    source, sink = app.topic("in"), app.topic("out")

    @app.agent(source, group="g")
    async def fragile(event: Event[object], out: Outbox) -> None:
        if await app.redis.exists("t:broken"):
            raise RuntimeError("dependency: t:broken is set")
        handled.append(event.value)
        out.send(sink, event.value)

    await app.start()
    return app


async def test_failed_entry_is_dead_lettered_then_retried_once_after_the_fix(
    redis_url: str, r: aioredis.Redis, letters: DeadLetters
) -> None:
    handled: list[object] = []
    app = await fragile_app(redis_url, handled)
    try:
        await r.set("t:broken", 1)
        entry_id = await add(r, "t:in", {b"d": b'{"n": 1}'})

        async def dead() -> bool:
            return await r.xlen("t:dlq:in") == 1

        await until(dead, "the entry in the DLQ")
        [queue] = await letters.queues()
        assert (queue.name, queue.key, queue.count) == ("in", "t:dlq:in", 1)
        [letter] = await letters.entries("in")
        assert letter.stream == "t:in" and letter.group == "g" and letter.entry_id == entry_id
        assert letter.error == "RuntimeError: dependency: t:broken is set"
        assert letter.deliveries == 3
        assert letter.data == b'{"n": 1}'
        assert handled == []

        await r.delete("t:broken")
        [retried] = await letters.retry("in")
        assert retried.id == letter.id and retried.stream == "t:in" and retried.error is None

        assert await letters.retry("in") == []  # nothing left: a second retry does nothing
        await add(r, "t:in", {b"d": b'"end"'})  # handled after anything retried before it

        async def processed() -> bool:
            return await r.xlen("t:out") == 2

        await until(processed, "the retried entry and the marker handled")
        assert handled == [{"n": 1}, "end"]
        assert await letters.queues() == []
    finally:
        await app.stop()


async def test_retry_of_some_ids_leaves_the_others(r: aioredis.Redis, letters: DeadLetters) -> None:
    ids = [await dead_letter(r, "t:in", f'"v{n}"'.encode()) for n in range(3)]
    done = await letters.retry("dlq:in", [ids[1]])
    assert [(d.id, d.error) for d in done] == [(ids[1], None)]
    assert await values(r, "t:in") == [b'"v1"']
    assert [letter.id for letter in await letters.entries("in")] == [ids[0], ids[2]]


async def test_concurrent_retries_move_each_letter_once(
    r: aioredis.Redis, letters: DeadLetters
) -> None:
    await dead_letter(r, "t:in", b'"once"')
    other = DeadLetters(r, "t:")
    first, second = await asyncio.gather(letters.retry("in"), other.retry("in"))
    moved = [d for d in [*first, *second] if d.error is None]
    assert len(moved) == 1
    assert await r.xlen("t:in") == 1


async def test_retry_reports_letters_it_cannot_put_back(
    r: aioredis.Redis, letters: DeadLetters
) -> None:
    empty = await dead_letter(r, "t:in", b"")
    nowhere = await add(r, "t:dlq:in", {b"d": b"x", b"error": b"old"})
    done = {d.id: d.error for d in await letters.retry("in")}
    assert done == {
        empty: "d: dead letter has no data to retry",
        nowhere: "stream: dead letter names no stream",
    }
    assert await r.xlen("t:dlq:in") == 2  # kept for the operator to purge


async def test_purge_some_then_all(r: aioredis.Redis, letters: DeadLetters) -> None:
    ids = [await dead_letter(r, "t:orders:demo-1", b'"o"') for _ in range(3)]
    assert await letters.purge("orders:demo-1", [ids[0]]) == 1
    assert await letters.purge("t:dlq:orders:demo-1") == 2
    assert await r.exists("t:dlq:orders:demo-1") == 0
    assert await letters.purge("orders:demo-1") == 0


async def test_unknown_ids_and_empty_names_are_refused(
    r: aioredis.Redis, letters: DeadLetters
) -> None:
    await dead_letter(r, "t:in", b'"x"')
    with pytest.raises(UnknownDeadLetter, match="id: no dead letter 1-1 in t:dlq:in"):
        await letters.entries("in", ["1-1"])
    with pytest.raises(UnknownDeadLetter, match="stream: give the stream"):
        letters.key("dlq:")


def test_letters_of_older_versions_parse_with_defaults() -> None:
    letter = parse_letter("1700000000000-0", {b"d": b"x"})
    assert (letter.stream, letter.deliveries, letter.dead_at_ms) == ("", 0, 1_700_000_000_000)


async def dead_letter(r: aioredis.Redis, stream: str, data: bytes) -> str:
    """A DLQ entry as the runtime writes it (streams/dlq.py)."""
    dlq = stream.replace("t:", "t:dlq:", 1)
    fields = {
        b"d": data,
        b"stream": stream.encode(),
        b"group": b"g",
        b"id": b"5-0",
        b"error": b"ValueError: boom",
        b"deliveries": b"5",
        b"ts": b"1700000000000",
    }
    return await add(r, dlq, fields)
