"""Exclusive agents: one live consumer per stream, a dead one's entries resumed at once and
in stream order, commits of a consumer without the lease or ahead of older entries refused."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import redis.asyncio as aioredis

from streams import App, Event, Outbox
from streams.commit import Committer, Unit
from streams.lease import HOST, NAMESPACE, Holder, consumer_name, known_dead, lease_key
from tests.streams.conftest import add, settings, until, values
from tests.streams.test_commit import pending_ids
from tests.tools import needs


def dead_pid() -> int:
    """The pid of a process of this host that has exited."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                           capture_output=True, text=True)  # fmt: skip
    return int(child.stdout)


def dead_name() -> str:
    """The consumer name of a process of this pid namespace that has exited."""
    return f"{HOST}/{NAMESPACE}-{dead_pid()}-abcdef"


def test_a_consumer_name_tells_whether_its_process_lives() -> None:
    me = consumer_name()
    holder = Holder.parse(me)
    assert holder is not None
    assert (holder.host, holder.space, holder.pid) == (HOST, NAMESPACE, os.getpid())
    assert me == f"{HOST}/{NAMESPACE}-{os.getpid()}-{holder.token}"
    assert len(holder.token) == 6 and consumer_name(".2") == me + ".2"
    assert not known_dead(me) and not known_dead(me + ".2")
    assert known_dead(dead_name())
    assert known_dead(f"{HOST}/{NAMESPACE}-{os.getpid()}-{'0' * 6}")  # our pid, an earlier one
    assert not known_dead(f"elsewhere/{NAMESPACE}-{dead_pid()}-abcdef")  # another host
    assert not known_dead("not-ours")


def test_a_name_of_another_namespace_or_without_one_is_never_known_dead() -> None:
    """Containers sharing a host name (`network_mode: host`) have pid namespaces of their own:
    a pid free here may be a live worker there."""
    free = dead_pid()
    assert not known_dead(f"{HOST}/0badcafe-{free}-abcdef")  # another container, same host name
    assert not known_dead(f"{HOST}/0badcafe-{os.getpid()}-{'0' * 6}")  # our pid, not ours
    assert not known_dead(f"{HOST}-{free}-abcdef")  # an old name, or a host without /proc


@needs("unshare")
def test_a_process_in_another_pid_namespace_names_another_namespace() -> None:
    """What a container does: a new pid namespace (its first process has pid 1) on this host,
    under this host name."""
    code = "from streams.lease import consumer_name; print(consumer_name())"
    run = subprocess.run(["unshare", "--user", "--map-root-user", "--pid", "--fork",
                          "--mount-proc", sys.executable, "-c", code],
                         capture_output=True, text=True, check=False)  # fmt: skip
    if run.returncode != 0:
        pytest.skip(f"no pid namespace for this user: {run.stderr.strip()}")
    name = run.stdout.strip()
    assert name.startswith(f"{HOST}/") and f"/{NAMESPACE}-" not in name
    assert name.split("-")[-2] == "1"  # pid 1 there; alive here too, but it is not asked
    assert not known_dead(name)
    assert not known_dead(name.replace("-1-", f"-{dead_pid()}-"))


async def test_only_the_lease_holder_works_a_stream_and_a_stop_hands_it_over(
    redis_url: str, r: aioredis.Redis
) -> None:
    apps = [App(settings(redis_url)), App(settings(redis_url))]
    seen: dict[int, list[object]] = {0: [], 1: []}
    for n, app in enumerate(apps):
        source, sink = app.topic("in"), app.topic("out")

        def handler(n: int = n, sink: object = sink) -> object:
            async def copy(event: Event[object], out: Outbox) -> None:
                seen[n].append(event.value)
                out.send(sink, event.value)  # type: ignore[arg-type]

            return copy

        app.agent(source, group="g", exclusive=True)(handler())  # type: ignore[arg-type]
    await apps[0].start()
    await apps[1].start()
    try:
        holder = apps[0].agents[0].consumer
        assert await r.get(lease_key("t:", "in", "g")) == holder.encode()
        for i in range(20):
            await add(r, "t:in", {b"d": b"%d" % i})

        async def twenty() -> bool:
            return await r.xlen("t:out") == 20

        await until(twenty, "twenty copies")
        assert seen[0] == list(range(20)) and seen[1] == []
        await apps[0].stop()  # gives the lease up: the standby takes it at its next round
        for i in range(20, 30):
            await add(r, "t:in", {b"d": b"%d" % i})

        async def thirty() -> bool:
            return await r.xlen("t:out") == 30

        await until(thirty, "the standby's copies")
        assert seen[1] == list(range(20, 30))
        assert await values(r, "t:out") == [b"%d" % i for i in range(30)]
    finally:
        await apps[0].stop()
        await apps[1].stop()


async def test_a_dead_holders_entries_are_resumed_at_once_before_newer_ones(
    redis_url: str, r: aioredis.Redis
) -> None:
    dead = dead_name()
    await r.xgroup_create("t:in", "g", id="0", mkstream=True)
    for i in range(5):
        await add(r, "t:in", {b"d": b"%d" % i})
    await r.xreadgroup("g", dead, {"t:in": ">"}, count=5)  # it died holding these five
    await r.set(lease_key("t:", "in", "g"), dead, px=60_000)  # and its lease for a minute
    for i in range(5, 10):
        await add(r, "t:in", {b"d": b"%d" % i})
    app = App(settings(redis_url, claim_min_idle_ms=600_000))
    source, sink = app.topic("in"), app.topic("out")

    @app.agent(source, group="g", exclusive=True)
    async def copy(event: Event[object], out: Outbox) -> None:
        out.send(sink, event.value)

    await app.start()
    try:

        async def ten() -> bool:
            return await r.xlen("t:out") == 10

        await until(ten, "all ten, without waiting out the lease or the claim idle time")
        assert await values(r, "t:out") == [b"%d" % i for i in range(10)]
        assert await r.get(lease_key("t:", "in", "g")) == app.agents[0].consumer.encode()
        names = {c["name"] for c in await r.xinfo_consumers("t:in", "g")}
        assert dead.encode() not in names
    finally:
        await app.stop()


async def test_a_commit_without_the_lease_or_ahead_of_an_older_entry_is_refused(
    r: aioredis.Redis,
) -> None:
    await r.xgroup_create("s", "g", id="0", mkstream=True)
    ids = [await add(r, "s", {b"d": b"%d" % i}) for i in range(3)]
    await r.xreadgroup("g", "a", {"s": ">"}, count=1)  # a holds the first
    await r.xreadgroup("g", "b", {"s": ">"}, count=2)  # b the next two
    await r.set("lease", "b")
    committer = Committer(r, "g")

    def unit(entry: str, holder: str) -> Unit:
        return Unit("s", entry, [("FENCE", "lease", holder, "s", entry), ("XADD", "out", "*",
                                                                         "d", entry)])  # fmt: skip

    refused = await committer.commit([unit(ids[1], "a")])
    assert refused[0] is not None and refused[0].startswith("LEASE lease is held by b, not a")
    refused = await committer.commit([unit(ids[1], "b")])
    assert refused[0] is not None and refused[0].startswith(f"ORDER s {ids[0]} of a")
    assert await r.exists("out") == 0
    await r.xack("s", "g", ids[0])  # the first is done: b's two go, in one commit
    assert await committer.commit([unit(ids[1], "b"), unit(ids[2], "b")]) == {}
    assert await values(r, "out") == [ids[1].encode(), ids[2].encode()]
    assert await pending_ids(r, "s", "g") == []


async def test_writes_outside_an_event_commit_only_while_the_lease_is_held(
    redis_url: str, r: aioredis.Redis
) -> None:
    app = App(settings(redis_url))
    source, sink = app.topic("in"), app.topic("out")

    async def ignore(event: Event[object], out: Outbox) -> None:
        return None

    agent = app.agent(source, group="g", exclusive=True)(ignore)
    await app.start()
    try:
        out = Outbox()
        out.send(sink, "timer")
        assert await agent.commit_held(source.key, out)
        assert await values(r, "t:out") == [b'"timer"']
        await r.set(lease_key("t:", "in", "g"), "another", px=60_000)  # deposed meanwhile
        assert not await agent.commit_held(source.key, out)  # fenced: nothing written
        assert not await agent.commit_held(source.key, out)  # dropped: not even tried
        assert await r.xlen("t:out") == 1
    finally:
        await app.stop()


async def test_an_entry_a_deposed_consumer_still_holds_is_finished_before_newer_ones(
    redis_url: str, r: aioredis.Redis
) -> None:
    app = App(settings(redis_url))
    source, sink = app.topic("in"), app.topic("out")

    @app.agent(source, group="g", exclusive=True)
    async def copy(event: Event[object], out: Outbox) -> None:
        out.send(sink, event.value)

    await app.start()
    try:
        await add(r, "t:in", {b"d": b"0"})

        async def copied(count: int) -> bool:
            return await r.xlen("t:out") == count

        await until(lambda: copied(1), "the first copy")
        pipe = r.pipeline(transaction=True)  # one step: the holder is served after it
        pipe.xadd("t:in", {"d": b"1"})
        pipe.xreadgroup("g", "zombie", {"t:in": ">"}, count=1)  # a deposed holder reads 1
        pipe.xadd("t:in", {"d": b"2"})
        await pipe.execute()
        await until(lambda: copied(3), "both copies")
        assert await values(r, "t:out") == [b"0", b"1", b"2"]  # 2's commit waited for 1
        assert await pending_ids(r, "t:in", "g") == []
    finally:
        await app.stop()


async def test_an_agent_that_is_not_exclusive_claims_a_dead_consumers_entries_at_once(
    redis_url: str, r: aioredis.Redis
) -> None:
    dead = dead_name()
    elsewhere = f"elsewhere-{dead_pid()}-abcdef"  # maybe alive: only its idle time tells
    await r.xgroup_create("t:in", "g", id="0", mkstream=True)
    ids = [await add(r, "t:in", {b"d": b"%d" % i}) for i in range(6)]
    await r.xreadgroup("g", dead, {"t:in": ">"}, count=3)
    await r.xreadgroup("g", elsewhere, {"t:in": ">"}, count=1)
    app = App(settings(redis_url, claim_min_idle_ms=600_000))
    source, sink = app.topic("in"), app.topic("out")

    @app.agent(source, group="g")
    async def copy(event: Event[object], out: Outbox) -> None:
        out.send(sink, event.value)

    await app.start()
    try:

        async def five() -> bool:
            return await r.xlen("t:out") == 5

        await until(five, "the dead consumer's three, then the two unread")
        assert await values(r, "t:out") == [b"0", b"1", b"2", b"4", b"5"]
        names = {c["name"] for c in await r.xinfo_consumers("t:in", "g")}
        assert dead.encode() not in names and elsewhere.encode() in names
        assert await pending_ids(r, "t:in", "g") == [ids[3]]  # not this agent's to take yet
    finally:
        await app.stop()
