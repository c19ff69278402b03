"""The commit script: outputs and acks land together, or neither does."""

from __future__ import annotations

from typing import cast

import redis.asyncio as aioredis

from streams.commit import SKIPPED, Committer, Unit, flatten, parse_reply, routing_key
from streams.types import Command
from tests.streams.conftest import add, values
from tests.tools import need_redis


async def pending_ids(r: aioredis.Redis, key: str, group: str) -> list[str]:
    rows = await r.xpending_range(key, group, "-", "+", 100)
    return [cast(bytes, row["message_id"]).decode() for row in rows]


async def deliver(r: aioredis.Redis, key: str, count: int) -> list[str]:
    """Add `count` entries to `key` and deliver them to consumer c of group g."""
    await r.xgroup_create(key, "g", id="0", mkstream=True)
    ids = [await add(r, key, {b"d": b"%d" % i}) for i in range(count)]
    await r.xreadgroup("g", "c", {key: ">"}, count=count)
    return ids


async def test_units_commit_outputs_and_acks(r: aioredis.Redis) -> None:
    ids = await deliver(r, "s", 2)
    units = [
        Unit("s", ids[0], [("XADD", "out", "*", "d", b"a"), ("HSET", "h", "o1", "sent")]),
        Unit("s", ids[1], [("XADD", "out", "*", "d", b"b")]),
    ]
    refused = await Committer(r, "g").commit(units)
    assert refused == {}
    assert await values(r, "out") == [b"a", b"b"]
    assert await r.hget("h", "o1") == b"sent"
    assert await pending_ids(r, "s", "g") == []


async def test_wrong_type_writes_nothing_and_acks_nothing(r: aioredis.Redis) -> None:
    ids = await deliver(r, "s", 1)
    await r.set("out", "a string")
    unit = Unit("s", ids[0], [("HSET", "h", "o1", "sent"), ("XADD", "out", "*", "d", b"a")])
    refused = await Committer(r, "g").commit([unit])
    assert refused[0] is not None and refused[0].startswith("WRONGTYPE out holds a string")
    assert await r.exists("h") == 0, "the unit's first command must not have run"
    assert await r.get("out") == b"a string"
    assert await pending_ids(r, "s", "g") == ids


async def test_failed_unit_skips_the_rest_of_its_stream_only(r: aioredis.Redis) -> None:
    s_ids = await deliver(r, "s", 3)
    t_ids = await deliver(r, "t", 1)
    await r.set("bad", "x")
    units = [
        Unit("s", s_ids[0], [("XADD", "out", "*", "d", b"s0")]),
        Unit("s", s_ids[1], [("XADD", "bad", "*", "d", b"s1")]),
        Unit("s", s_ids[2], [("XADD", "out", "*", "d", b"s2")]),
        Unit("t", t_ids[0], [("XADD", "out", "*", "d", b"t0")]),
    ]
    refused = await Committer(r, "g").commit(units)
    assert set(refused) == {1, 2}
    assert refused[2] is SKIPPED
    assert await values(r, "out") == [b"s0", b"t0"]
    assert await pending_ids(r, "s", "g") == s_ids[1:]
    assert await pending_ids(r, "t", "g") == []


async def test_runtime_error_stops_the_unit_before_its_ack(r: aioredis.Redis) -> None:
    ids = await deliver(r, "s", 1)
    await r.hset("h", "n", "not a number")
    unit = Unit("s", ids[0], [("HINCRBY", "h", "n", 1), ("XADD", "out", "*", "d", b"a")])
    refused = await Committer(r, "g").commit([unit])
    assert "not an integer" in (refused[0] or "")
    assert await r.exists("out") == 0
    assert await pending_ids(r, "s", "g") == ids


async def test_unit_without_ack_acks_nothing(r: aioredis.Redis) -> None:
    ids = await deliver(r, "s", 2)
    units = [Unit("", "", [("XADD", "out", "*", "d", b"batch"), ("XACK", "s", "g", *ids)])]
    assert await Committer(r, "g").commit(units) == {}
    assert await pending_ids(r, "s", "g") == []
    assert await r.xlen("out") == 1


async def test_a_refused_guard_ends_its_unit_and_acks_it(r: aioredis.Redis) -> None:
    ids = await deliver(r, "s", 3)
    await r.hset("rec", "o2", "filled")  # set by another worker before this commit
    guarded: list[Command] = [("ONCE", "rec", "o1", "rejected"), ("XADD", "out", "*", "d", b"o1")]
    units = [
        Unit("s", ids[0], guarded),
        Unit("s", ids[1], [("ONCE", "rec", "o2", "rejected"), ("XADD", "out", "*", "d", b"o2")]),
        Unit("s", ids[2], guarded),  # the same order again
    ]
    assert await Committer(r, "g").commit(units) == {}
    assert await values(r, "out") == [b"o1"]
    assert await r.hgetall("rec") == {b"o1": b"rejected", b"o2": b"filled"}
    assert await pending_ids(r, "s", "g") == []


async def test_a_guard_replaces_only_the_values_it_names(r: aioredis.Redis) -> None:
    ids = await deliver(r, "s", 3)
    await r.hset("rec", mapping={"o1": "sent", "o2": "rejected"})
    units = [
        Unit("s", i, [("ONCE", "rec", o, "filled", "sent"), ("XADD", "out", "*", "d", o.encode())])
        for i, o in zip(ids, ("o1", "o2", "o3"), strict=True)
    ]
    assert await Committer(r, "g").commit(units) == {}
    assert await values(r, "out") == [b"o1", b"o3"]  # o2 was finished by someone else
    assert await r.hgetall("rec") == {b"o1": b"filled", b"o2": b"rejected", b"o3": b"filled"}
    assert await pending_ids(r, "s", "g") == []


async def test_a_guard_on_a_key_of_another_type_fails_its_unit(r: aioredis.Redis) -> None:
    ids = await deliver(r, "s", 1)
    await r.set("rec", "a string")
    unit = Unit("s", ids[0], [("ONCE", "rec", "o1", "rejected"), ("XADD", "out", "*", "d", b"a")])
    refused = await Committer(r, "g").commit([unit])
    assert (refused[0] or "").startswith("WRONGTYPE rec holds a string, ONCE needs a hash")
    assert await r.exists("out") == 0
    assert await pending_ids(r, "s", "g") == ids


async def test_nothing_to_commit_is_no_round_trip(r: aioredis.Redis) -> None:
    assert await Committer(r, "g").commit([]) == {}


def test_flatten_and_parse_reply() -> None:
    units = [Unit("s", "1-0", [("XADD", "o", "*", "d", b"x")]), Unit("s", "", [])]
    assert flatten("g", units) == [
        "g",
        2,
        "s",
        "1-0",
        1,
        5,
        "XADD",
        "o",
        "*",
        "d",
        b"x",
        "s",
        "",
        0,
    ]
    assert parse_reply([0, b"WRONGTYPE", 1, 0]) == {0: "WRONGTYPE", 1: SKIPPED}


def test_the_script_is_routed_by_a_key_it_writes() -> None:
    """A cluster client sends a script to the node of its first key (KEYS[1])."""
    batch = Unit("", "", [("XADD", "ea:out", "*", "d", b"x"), ("XACK", "ea:in", "g", "1-0")])
    assert routing_key([batch, Unit("ea:in", "1-1", [])]) == "ea:out"
    assert routing_key([Unit("ea:in", "1-1", [])]) == "ea:in"
    assert routing_key([]) == ""


async def test_an_expectation_guards_its_whole_unit(r: aioredis.Redis) -> None:
    ids = await deliver(r, "s", 3)
    await r.hset("acct", mapping={"version": "7", "owner": "x"})
    units = [
        Unit("s", ids[0], [("EXPECT", "acct", "version", "7"), ("XADD", "out", "*", "d", b"a")]),
        Unit("s", ids[1], [("EXPECT", "orec", "o2", ""), ("XADD", "out", "*", "d", b"b")]),
        Unit("t", "", [("XADD", "out", "*", "d", b"c"), ("EXPECT", "acct", "owner", "y")]),
    ]
    refused = await Committer(r, "g").commit(units)
    assert refused == {2: "CONFLICT acct owner is x, expected y"}
    assert await values(r, "out") == [b"a", b"b"]  # nothing of the refused unit, not even c
    await r.hset("orec", "o2", "filled")
    again = await Committer(r, "g").commit([Unit("s", ids[2], [("EXPECT", "orec", "o2", "")])])
    assert again == {0: "CONFLICT orec o2 is filled, expected absent"}
    assert await pending_ids(r, "s", "g") == [ids[2]]


async def test_a_unit_its_user_may_not_run_writes_nothing(
    r: aioredis.Redis, redis_url: str
) -> None:
    """Regression (issue 18, attack 9): under least-privilege ACLs a unit wrote its order
    record, then hit NOPERM on a later command; the retry met the record's once-guard and
    acked the entry with no effect and no result. Now nothing of it runs."""
    need_redis((7, 0), "ACL permission checks in scripts (redis.acl_check_cmd)")
    ids = await deliver(r, "s", 1)
    await r.acl_setuser(
        "limited", enabled=True, passwords=["+pw"], keys=["s", "out", "h"], commands=["+@all"]
    )
    limited = aioredis.Redis.from_url(redis_url, username="limited", password="pw")
    try:
        unit = Unit(
            "s",
            ids[0],
            [
                ("ONCE", "h", "o1", "rejected"),
                ("XADD", "out", "*", "d", b"result"),
                ("HSET", "registry", "a", "halted"),  # a key this user may not write
            ],
        )
        refused = await Committer(limited, "g").commit([unit])
    finally:
        await limited.aclose()
        await r.acl_deluser("limited")
    assert refused[0] is not None and refused[0].startswith("NOPERM"), refused
    assert await r.hget("h", "o1") is None and await r.xlen("out") == 0  # nothing ran
    assert await pending_ids(r, "s", "g") == ids  # not acked: retried, then dead-lettered
