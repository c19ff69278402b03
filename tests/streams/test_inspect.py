"""stream_status numbers and trim_acked, which never deletes what a group still needs."""

from __future__ import annotations

import asyncio
from typing import cast

import redis
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from streams import GroupStatus, StreamStatus, stream_status, trim_acked
from streams.inspect import count_after, group_status
from tests.streams.conftest import add, entries


async def prepare(r: aioredis.Redis) -> list[str]:
    """t:in: 5 entries; g1 read 3 and acked 1; g2 read none; t:dlq:in: 2 letters."""
    ids = [await add(r, "t:in", {b"d": b"%d" % n}) for n in range(5)]
    await r.xgroup_create("t:in", "g1", id="0")
    await r.xgroup_create("t:in", "g2", id="0")
    await r.xreadgroup("g1", "c1", {"t:in": ">"}, count=3)
    await r.xack("t:in", "g1", ids[0])
    for n in range(2):
        await add(r, "t:dlq:in", {b"d": b"%d" % n})
    await r.set("t:not-a-stream", "x")
    await add(r, "other:in", {b"d": b"x"})
    return ids


async def check_status(r: aioredis.Redis, ids: list[str]) -> None:
    statuses = await stream_status(r, "t:")
    assert [s.key for s in statuses] == ["t:dlq:in", "t:in"]
    assert statuses[1] == StreamStatus(
        key="t:in",
        name="in",
        length=5,
        groups=(
            GroupStatus("g1", consumers=1, pending=2, lag=2, last_delivered_id=ids[2]),
            GroupStatus("g2", consumers=0, pending=0, lag=5, last_delivered_id="0-0"),
        ),
        dlq_length=2,
    )
    assert statuses[0].is_dlq and not statuses[1].is_dlq
    labels = {"stream": "t:in", "group": "g1"}
    assert REGISTRY.get_sample_value("eaflow_stream_group_lag", labels) == 2
    assert REGISTRY.get_sample_value("eaflow_stream_group_pending", labels) == 2
    assert REGISTRY.get_sample_value("eaflow_stream_dlq_length", {"stream": "t:in"}) == 2


async def test_stream_status(r: aioredis.Redis) -> None:
    await check_status(r, await prepare(r))


async def test_stream_status_counts_the_lag_on_redis_62(redis62_url: str) -> None:
    r = aioredis.Redis.from_url(redis62_url)
    try:
        ids = await prepare(r)
        assert "lag" not in (await r.xinfo_groups("t:in"))[0], "6.2 does not report lag"
        await check_status(r, ids)
        assert await trim_acked(r, "t:in") == 0, "g2 has read nothing"
    finally:
        await r.aclose()


async def test_a_stale_lag_of_a_caught_up_group_reads_zero(r: aioredis.Redis) -> None:
    """Regression: after AOF restarts Redis 7.0 reported lag 1,171 for a sink group that had
    read every entry (last-delivered-id = the newest id), forever (found by the chaos suite)."""
    ids = [await add(r, "t:in", {b"d": b"%d" % n}) for n in range(3)]
    caught_up = {"name": b"g", "consumers": 1, "pending": 0, "last-delivered-id": ids[-1]}
    assert (await group_status(r, "t:in", {**caught_up, "lag": 1171})).lag == 0
    behind = {**caught_up, "last-delivered-id": ids[0]}
    assert (await group_status(r, "t:in", {**behind, "lag": 2})).lag == 2
    assert (await group_status(r, "t:in", {**behind, "lag": None})).lag == 2


async def test_count_after_pages(r: aioredis.Redis) -> None:
    ids = [await add(r, "s", {b"d": b"x"}) for _ in range(7)]
    assert await count_after(r, "s", ids[1], page=2) == 5
    assert await count_after(r, "s", "0-0", page=3) == 7
    assert await count_after(r, "s", ids[-1], page=2) == 0


async def remaining(r: aioredis.Redis, key: str) -> list[str]:
    return [entry_id for entry_id, _ in await entries(r, key)]


async def test_trim_keeps_everything_without_groups(r: aioredis.Redis) -> None:
    for _ in range(3):
        await add(r, "s", {b"d": b"x"})
    assert await trim_acked(r, "s") == 0
    assert await r.xlen("s") == 3


async def test_trim_stops_at_the_oldest_pending_entry(r: aioredis.Redis) -> None:
    ids = [await add(r, "s", {b"d": b"x"}) for _ in range(10)]
    await r.xgroup_create("s", "g", id="0")
    await r.xreadgroup("g", "c", {"s": ">"}, count=6)
    await r.xack("s", "g", *ids[:4], ids[5])  # ids[4] is still pending
    assert await trim_acked(r, "s") == 4
    assert await remaining(r, "s") == ids[4:]


async def test_trim_stops_at_the_slowest_group(r: aioredis.Redis) -> None:
    ids = [await add(r, "s", {b"d": b"x"}) for _ in range(6)]
    await r.xgroup_create("s", "fast", id="0")
    await r.xgroup_create("s", "slow", id="0")
    await r.xreadgroup("fast", "c", {"s": ">"})
    await r.xack("s", "fast", *ids)
    await r.xreadgroup("slow", "c", {"s": ">"}, count=2)
    await r.xack("s", "slow", *ids[:2])
    assert await trim_acked(r, "s") == 2
    assert await remaining(r, "s") == ids[2:]
    await r.xreadgroup("slow", "c", {"s": ">"})
    await r.xack("s", "slow", *ids[2:])
    assert await trim_acked(r, "s") == 4
    assert await r.xlen("s") == 0


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    size=st.integers(0, 25),
    groups=st.lists(
        st.tuples(st.integers(0, 25), st.sets(st.integers(0, 24))), min_size=1, max_size=3
    ),
)
def test_trim_never_deletes_what_a_group_still_needs(
    redis_client: redis.Redis, redis_url: str, size: int, groups: list[tuple[int, set[int]]]
) -> None:
    redis_client.flushall()
    ids = [cast(bytes, redis_client.xadd("s", {"d": b"x"})).decode() for _ in range(size)]
    if not ids:
        redis_client.xgroup_create("s", "g0", id="0", mkstream=True)
    needed: set[str] = set()
    for n, (read, acked) in enumerate(groups):
        group = f"g{n}"
        if ids:
            redis_client.xgroup_create("s", group, id="0")
            redis_client.xreadgroup(group, "c", {"s": ">"}, count=max(read, 1))
        delivered = ids[: max(read, 1)] if ids else []
        done = [ids[i] for i in acked if i < len(delivered)]
        if done:
            redis_client.xack("s", group, *done)
        needed |= set(ids[len(delivered) :]) | (set(delivered) - set(done))

    async def trim() -> int:
        client = aioredis.Redis.from_url(redis_url)
        try:
            return await trim_acked(client, "s")
        finally:
            await client.aclose()

    deleted = asyncio.run(trim())
    rows = cast(list[tuple[bytes, object]], redis_client.xrange("s"))
    left = {entry_id.decode() for entry_id, _ in rows}
    order = {entry_id: n for n, entry_id in enumerate(ids)}
    floor = min((order[i] for i in needed), default=len(ids))
    assert left == set(ids[floor:]), "keeps what is needed and trims everything below it"
    assert deleted == floor
