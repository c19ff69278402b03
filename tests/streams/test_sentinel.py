"""Sentinel URLs: parsed with the field and rule named, and an agent on a real primary,
replica and three Sentinels that follows two promotions without a restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis

from eaflow.acl import Role
from streams import App, Event, Outbox
from streams.clients import (
    BlockingSentinelPool,
    SentinelUrl,
    async_client,
    is_sentinel,
    sync_client,
)
from streams.durable import Durability, NotReplicated
from tests.acl_redis import random_passwords
from tests.sentinel import Replicated
from tests.streams.conftest import settings, values


def test_a_sentinel_url_names_the_sentinels_the_service_and_both_logins() -> None:
    url = (
        "rediss+sentinel://worker:s%40cret@10.0.0.1:26380,[::1],s3/mymaster/2"
        "?sentinel_username=watch&sentinel_password=pw&ssl_ca_certs=/ca.pem&socket_timeout=5"
    )
    parsed = SentinelUrl.parse(url)
    assert is_sentinel(url) and not is_sentinel("redis://h:6379/0")
    assert parsed.sentinels == (("10.0.0.1", 26380), ("::1", 26379), ("s3", 26379))
    assert parsed.service == "mymaster"
    connection = parsed.connection
    assert (connection["username"], connection["password"], connection["db"]) == (
        "worker",
        "s@cret",
        2,
    )
    assert connection["ssl"] is True and connection["ssl_ca_certs"] == "/ca.pem"
    assert parsed.sentinel == {
        "ssl": True,
        "ssl_ca_certs": "/ca.pem",
        "socket_timeout": 5.0,
        "username": "watch",
        "password": "pw",
    }


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("redis+sentinel:///mymaster", "names at least one Sentinel"),
        ("redis+sentinel://h:26379", "names its service"),
        ("redis+sentinel://h:26379/mymaster/x", "must be a number"),
        ("redis+sentinel://h:99999/mymaster", "must be host:port"),
    ],
)
def test_a_bad_sentinel_url_is_refused_naming_the_rule(url: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule) as refused:
        SentinelUrl.parse(url)
    assert str(refused.value).startswith("redis_url:")


@pytest.fixture
def replicated(tmp_path: Path) -> Iterator[Replicated]:
    servers = Replicated(tmp_path).start()
    yield servers
    servers.stop()


async def test_an_agent_follows_a_crash_and_a_manual_failover_without_a_restart(
    replicated: Replicated,
) -> None:
    app = App(settings(replicated.url, block_ms=200, socket_timeout=2.0))
    source, sink = app.topic("in"), app.topic("out")
    seen: list[object] = []

    @app.agent(source, group="g", exclusive=True)
    async def copy(event: Event[object], out: Outbox) -> None:
        seen.append(event.value)
        out.send(sink, event.value)

    feeder = sync_client(replicated.url, socket_timeout=2.0)
    r = async_client(replicated.url, socket_timeout=2.0)
    await app.start()
    try:
        for round_ in range(3):  # before the first promotion, after it, after the second
            for n in range(20 * round_, 20 * round_ + 20):
                feeder.xadd("t:in", {"d": str(n)})
            await copied(r, 20 * round_ + 20)
            if round_ < 2:  # the primary killed, then a failover by hand
                await asyncio.to_thread(replicated.fail_over, by_hand=round_ == 1)
        assert await values(r, "t:out") == [str(n).encode() for n in range(60)]
        assert seen == list(range(60))  # each once: nothing the old primaries held replayed
    finally:
        await app.stop()
        await r.aclose()
        feeder.close()


async def copied(r: aioredis.Redis, count: int) -> None:
    """Until `t:out` holds `count` entries, reading through Sentinel while it fails over."""
    async with asyncio.timeout(60):
        while True:
            try:
                if await r.xlen("t:out") >= count:
                    return
            except (ConnectionError, OSError, aioredis.ConnectionError, aioredis.ResponseError):
                pass
            await asyncio.sleep(0.05)


async def test_a_write_waits_for_its_replica_and_a_missing_one_is_reported(
    replicated: Replicated,
) -> None:
    client = aioredis.Redis.from_url(replicated.primary.url)
    durable = Durability(replicas=1, timeout_ms=300)
    try:
        pipe = client.pipeline(transaction=False)
        pipe.set("k", "v")
        assert durable.queue(pipe)
        written, acked = await pipe.execute()
        assert written is True
        durable.check(acked, "k")  # the replica holds it
        replica = next(s for s in replicated.servers if s is not replicated.primary)
        replica.kill()
        pipe = client.pipeline(transaction=False)
        pipe.set("k", "w")
        durable.queue(pipe)
        written, acked = await pipe.execute()
        assert written is True  # on the primary, but on no replica
        with pytest.raises(NotReplicated, match="k: written, but 0 of 1 replicas"):
            durable.check(acked, "k")
        assert not Durability().queue(pipe)  # no replicas asked for: no WAIT sent
    finally:
        await client.aclose()


async def test_a_blocking_pool_waits_for_a_free_connection_through_sentinel(
    replicated: Replicated,
) -> None:
    client = async_client(replicated.url, max_connections=1, pool_timeout=5.0)
    assert isinstance(client.connection_pool, BlockingSentinelPool)
    try:
        blocked = asyncio.create_task(hold(client))  # holds the one
        await asyncio.sleep(0.1)
        assert await client.ping()  # waited for it instead of failing at once
        assert await blocked is None
    finally:
        await client.aclose()
    short = async_client(replicated.primary.url, max_connections=1, pool_timeout=0.2)
    try:
        held = asyncio.create_task(hold(short))
        await asyncio.sleep(0.1)
        with pytest.raises(aioredis.ConnectionError, match="No connection available"):
            await short.ping()
        await held
    finally:
        await short.aclose()


async def hold(client: aioredis.Redis) -> object:
    """Take one of the client's connections for a second (an empty BLPOP)."""
    return await client.blpop(["t:list"], timeout=1)


@pytest.fixture
def replicated_acl(tmp_path: Path) -> Iterator[Replicated]:
    servers = Replicated(tmp_path, passwords=random_passwords()).start()
    yield servers
    servers.stop()


def test_role_users_and_the_sentinel_user_carry_a_failover(
    replicated_acl: Replicated,
) -> None:
    """`eaflow acl`'s users on both servers: the Sentinels promote the replica logged in as
    the sentinel role, and a role's Sentinel URL reaches the new primary as that role."""
    router = sync_client(replicated_acl.url_for(Role.ROUTER), socket_timeout=2.0)
    try:
        assert router.xadd("ea:orders:demo-1", {"d": "1"})
        with pytest.raises(redis.exceptions.NoPermissionError):
            router.xadd("ea:rtss", {"d": "1"})  # the router may not write signals
        replicated_acl.fail_over()
        for _ in range(100):  # the first command after the promotion may meet the old link
            try:
                assert router.xadd("ea:orders:demo-1", {"d": "2"})
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        with sync_client(replicated_acl.url) as admin:  # the router may not read orders
            assert admin.xlen("ea:orders:demo-1") == 2
    finally:
        router.close()
