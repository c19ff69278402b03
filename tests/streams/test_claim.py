"""Claims: entries of dead consumers are taken over, worker-killing entries reach the DLQ."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from streams import App, Event, Outbox
from streams.claim import Claimer, parse_autoclaim
from streams.lease import DeadClaimer
from tests.streams.conftest import add, entries, pending, settings, until, values

ROOT = Path(__file__).parents[2]


def test_parse_autoclaim_redis7_form() -> None:
    reply: list[Any] = [b"0-0", [(b"1-0", {b"d": b"1"}), (b"2-0", {b"d": b"2"})], [b"3-0"]]
    claimed = parse_autoclaim("s", reply)
    assert claimed.cursor == "0-0"
    assert [(e.stream, e.id, e.fields) for e in claimed.entries] == [
        ("s", "1-0", {b"d": b"1"}),
        ("s", "2-0", {b"d": b"2"}),
    ]
    assert claimed.deleted == ("3-0",)
    assert claimed.vanished == 0


def test_parse_autoclaim_redis62_form() -> None:
    reply: list[Any] = [b"5-0", [(None, None), (b"2-0", {b"d": b"2"})]]
    claimed = parse_autoclaim("s", reply)
    assert claimed.cursor == "5-0"
    assert [e.id for e in claimed.entries] == ["2-0"]
    assert claimed.deleted == ()
    assert claimed.vanished == 1


def test_parse_autoclaim_refuses_other_shapes() -> None:
    with pytest.raises(ValueError, match="XAUTOCLAIM reply"):
        parse_autoclaim("s", [b"0-0"])


async def deliver_to(r: aioredis.Redis, consumer: str, items: list[bytes]) -> list[str]:
    """Entries read by `consumer`, who then died without acking them."""
    await r.xgroup_create("t:in", "g", id="0", mkstream=True)
    ids = [await add(r, "t:in", {b"d": item}) for item in items]
    await r.xreadgroup("g", consumer, {"t:in": ">"})
    return ids


async def consumers(r: aioredis.Redis) -> list[str]:
    return [bytes(c["name"]).decode() for c in await r.xinfo_consumers("t:in", "g")]


async def run_copier(url: str, r: aioredis.Redis, count: int, **overrides: Any) -> App:
    """An app copying t:in to t:out, started; returns once `count` entries are out."""
    app = App(settings(url, claim_min_idle_ms=100, claim_interval=0.05, **overrides))
    source, sink = app.topic("in"), app.topic("out")

    @app.agent(source, group="g")
    async def copy(event: Event[object], out: Outbox) -> None:
        out.send(sink, event.value)

    await app.start()

    async def copied() -> bool:
        return await r.xlen("t:out") >= count

    await until(copied, "the copies")
    return app


async def test_entries_of_a_dead_consumer_are_claimed_and_it_is_deleted(
    redis_url: str, r: aioredis.Redis
) -> None:
    await deliver_to(r, "dead", [b"1", b"2", b"3"])
    app = await run_copier(redis_url, r, 3, consumer_max_idle_ms=100)
    try:

        async def reaped() -> bool:
            return await consumers(r) == [app.agents[0].consumer]

        await until(reaped, "the dead consumer's removal")
        assert await values(r, "t:out") == [b"1", b"2", b"3"]
        assert await pending(r, "t:in", "g") == 0
        assert await r.exists("t:fails:in:g") == 0
    finally:
        await app.stop()


async def test_only_long_idle_consumers_owning_nothing_are_deleted(r: aioredis.Redis) -> None:
    await deliver_to(r, "busy", [b"1"])
    for name in ("idle", "fresh"):
        await r.xgroup_createconsumer("t:in", "g", name)
    claimer = Claimer(r, group="g", consumer="me", fails={}, min_idle_ms=0, count=1,
                      max_idle_ms=60_000)  # fmt: skip
    others = await DeadClaimer(r, "g", "me").others(["t:in"])
    assert others["t:in"].dead == [] and others["t:in"].idle.keys() == {"busy", "idle", "fresh"}
    idle = {"busy": 90_000, "idle": 90_000, "fresh": 5}  # as a later XINFO CONSUMERS has it
    assert await claimer.reap("t:in", idle) == ["idle"]  # busy still owns its entry
    assert sorted(await consumers(r)) == ["busy", "fresh"]


async def test_claims_on_redis_62(redis62_url: str) -> None:
    r = aioredis.Redis.from_url(redis62_url)
    try:
        ids = await deliver_to(r, "dead", [b"1", b"2", b"3"])
        await r.xdel("t:in", ids[1])  # 6.2 claims it as (nil, nil) and keeps it pending
        app = await run_copier(redis62_url, r, 2)
        try:

            async def drained() -> bool:
                return await pending(r, "t:in", "g") == 0

            await until(drained, "the deleted entry's ack")
            assert await values(r, "t:out") == [b"1", b"3"]
        finally:
            await app.stop()
    finally:
        await r.aclose()


def start_worker(url: str, action: str, cue: str, max_deliveries: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.streams.crash_worker", url, action, cue, str(max_deliveries)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_work_of_a_killed_worker_is_done_once(redis_url: str, r: aioredis.Redis) -> None:
    await r.xgroup_create("t:in", "g", id="0", mkstream=True)
    for n in range(12):
        await add(r, "t:in", {b"d": b"%d" % n})
    worker = start_worker(redis_url, "hang", "7", 5)
    try:

        async def hanging() -> bool:
            return bool(await r.exists("t:cue"))

        await until(hanging, "the worker to reach entry 7")
        worker.send_signal(signal.SIGKILL)  # mid-batch: 5 and 6 handled, nothing committed
        worker.wait()
    finally:
        worker.kill()
        worker.wait()
    assert await values(r, "t:out") == [b"%d" % n for n in range(5)]

    app = await run_copier(redis_url, r, 12)
    try:  # new entries may go before claimed ones: claims wait for claim_min_idle_ms
        assert sorted(await values(r, "t:out"), key=int) == [b"%d" % n for n in range(12)]
        assert await pending(r, "t:in", "g") == 0
    finally:
        await app.stop()


async def test_an_entry_that_kills_its_worker_ends_in_the_dlq(
    redis_url: str, r: aioredis.Redis
) -> None:
    """Attempts are counted from the first claim on: the first crash comes on top."""
    await r.xgroup_create("t:in", "g", id="0", mkstream=True)
    for item in (b'"a"', b'"kill"', b'"b"', b'"c"'):
        await add(r, "t:in", {b"d": item})
    crashes = 0
    for _ in range(10):
        worker = start_worker(redis_url, "kill", '"kill"', 2)
        try:

            async def over(worker: subprocess.Popen[bytes] = worker) -> bool:
                return worker.poll() is not None or await r.xlen("t:out") == 3

            await until(over, "a crash or the end")
        finally:
            crashed = worker.poll() == -signal.SIGKILL
            worker.terminate()
            worker.wait()
        if not crashed:
            break
        crashes += 1
    assert crashes == 3
    assert await values(r, "t:out") == [b'"a"', b'"b"', b'"c"']
    [(_, letter)] = await entries(r, "t:dlq:in")
    assert letter[b"d"] == b'"kill"'
    assert letter[b"deliveries"] == b"2"
    assert letter[b"error"] == b"gave up after 2 deliveries"
    assert await pending(r, "t:in", "g") == 0
