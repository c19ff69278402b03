"""The live feed's bounds (issue 18): streams per client address and per process, one Redis
reader for all of them, slow subscribers dropped, a bad stream key ending only its own."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import redis
import redis.asyncio as aioredis

from eaflow.gateway.config import GatewayConfig
from eaflow.gateway.livehub import LiveHub
from model.keys import Keys
from tests.eaflow.gateway.live_clients import LiveClient, close_all, loopback, open_many
from tests.eaflow.gateway.market import EURUSD, write_result, write_ticks
from tests.eaflow.gateway.served import BEARER, PREFIX, Served, serving
from tests.eaflow.gateway.test_chart import put_state

QUERY = "symbol=EURUSD&instance=demo-1"
AUTH = tuple(BEARER.items())  # the viewer token the read paths ask for


def port_of(served: Served) -> int:
    return int(served.url.rsplit(":", 1)[1])


async def until(check: Any, what: str, within: float = 15) -> None:
    """Poll `check()` (sync or async) until true; fail after `within` s (not a speed test)."""
    deadline = time.monotonic() + within
    while not ((await found) if asyncio.iscoroutine(found := check()) else found):
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def test_streams_per_client_address_are_capped_and_freed_when_closed(
    served: Served,
) -> None:
    port = port_of(served)
    held = await open_many("127.0.0.1", port, QUERY, 8, per_address=8, headers=AUTH)  # 1 address
    try:
        assert [c.status for c in held] == [200] * 8
        ninth = LiveClient("127.0.0.1", port, QUERY, loopback(0), AUTH)
        assert await ninth.open() == 429
        refusal = orjson.loads(ninth.body)
        assert refusal["reason"] == "live_per_client"
        assert "at most 8 live streams per client address" in refusal["error"]
        elsewhere = LiveClient("127.0.0.1", port, QUERY, loopback(1), AUTH)
        assert await elsewhere.open() == 200  # another address has its own allowance
        held.append(elsewhere)
        await held.pop(0).close()  # a stream closed frees its place

        async def reopened() -> bool:
            again = LiveClient("127.0.0.1", port, QUERY, loopback(0), AUTH)
            if await again.open() == 200:
                held.append(again)
                return True
            return False

        await until(reopened, "a place freed by the closed stream")
    finally:
        await close_all(held)


async def test_streams_per_process_are_capped(redis_url: str) -> None:
    config = GatewayConfig(port=0, symbols_ttl=0, live_max=3)
    with serving(redis_url, config) as served:
        port = port_of(served)
        held = await open_many("127.0.0.1", port, QUERY, 3, per_address=1, headers=AUTH)
        try:
            assert [c.status for c in held] == [200] * 3
            fourth = LiveClient("127.0.0.1", port, QUERY, loopback(3), AUTH)
            assert await fourth.open() == 503
            assert orjson.loads(fourth.body)["reason"] == "live_capacity"
            assert "maximum of 3 live streams" in orjson.loads(fourth.body)["error"]
        finally:
            await close_all(held)


def blocked_readers(client: redis.Redis) -> int:
    """Connections blocked in an XREAD right now (the gateway's; nothing else reads)."""
    found: Any = client.client_list()
    return sum(1 for c in found if c["cmd"] == "xread" and "b" in c["flags"])


async def test_forty_streams_on_two_symbols_share_one_redis_reader(served: Served) -> None:
    port = port_of(served)
    eurusd = await open_many("127.0.0.1", port, QUERY, 20, per_address=5, headers=AUTH)
    xauusd = await open_many(
        "127.0.0.1", port, "symbol=XAUUSD", 20, per_address=4, headers=AUTH, first=4
    )
    clients = eurusd + xauusd
    try:
        assert {c.status for c in clients} == {200}
        await until(lambda: blocked_readers(served.client) > 0, "the reader's XREAD")
        seen = set()
        for _ in range(20):  # the old feed held one blocked XREAD per stream: 40
            seen.add(blocked_readers(served.client))
            await asyncio.sleep(0.05)
        assert max(seen) == 1, seen
        now = int(time.time() * 1000)
        [tick] = write_ticks(served, "EURUSD", now, EURUSD[:1])
        [gold] = write_ticks(served, "XAUUSD", now, [(0, 1289.056, 1290.606)])
        put_state(served)
        result = write_result(served)
        await until(lambda: all(c.events["tick"] and c.events["result"] for c in eurusd),
                    "every EURUSD stream's tick and result")  # fmt: skip
        await until(lambda: all(c.events["state"] for c in eurusd), "every EURUSD state")
        await until(lambda: all(c.events["tick"] for c in xauusd), "every XAUUSD stream's tick")
        for c in eurusd:
            assert orjson.loads(c.last["tick"])["bid"] == tick.bid
            assert orjson.loads(c.last["result"])["result"]["result_id"] == result.result_id
        for c in xauusd:
            assert orjson.loads(c.last["tick"])["bid"] == gold.bid
            assert "state" not in c.events  # no instance asked for
    finally:
        await close_all(clients)


async def test_a_subscriber_that_stops_reading_is_dropped_the_others_go_on(
    redis_url: str,
) -> None:
    client = aioredis.Redis.from_url(redis_url)
    hub = LiveHub(client, Keys(PREFIX), max_streams=10, per_client=10, max_pending=4096)
    try:
        stuck = hub.subscribe("EURUSD", "demo-1", "10.0.0.1")
        reading = hub.subscribe("EURUSD", "demo-1", "10.0.0.2")
        got: list[bytes] = []

        async def read() -> None:
            while (chunk := await reading.next()) is not None:
                got.append(chunk)

        reader = asyncio.create_task(read())
        sync = redis.Redis.from_url(redis_url)
        served = Served(url="", client=sync)
        n = 0
        while not stuck.ended:  # ~1 kB per result: 4 kB undelivered drops `stuck`
            n += 1
            write_result(served, result_id=f"r{n}@demo-1")
            await asyncio.sleep(0.02)
            assert n < 2000, "never dropped"
        assert hub.dropped == 1 and stuck not in hub.subscribers
        assert await stuck.next() is None  # its stream ends
        write_result(served, result_id="after@demo-1")
        await until(lambda: any(b"after@demo-1" in c for c in got), "the reader goes on")
        assert not reading.ended and hub.by_client == {"10.0.0.2": 1}
        await hub.close()
        await reader
        sync.close()
    finally:
        await hub.close()
        await client.aclose()


async def test_a_symbol_whose_key_is_not_a_stream_ends_only_its_own_streams(
    redis_url: str,
) -> None:
    client = aioredis.Redis.from_url(redis_url)
    await client.set(f"{PREFIX}ticks:BROKEN", "not a stream")
    hub = LiveHub(client, Keys(PREFIX), max_streams=10, per_client=10)
    try:
        good = hub.subscribe("EURUSD", "", "10.0.0.1")
        bad = hub.subscribe("BROKEN", "", "10.0.0.1")
        async with asyncio.timeout(15):
            assert await bad.next() is None
        sync = redis.Redis.from_url(redis_url)
        write_ticks(Served(url="", client=sync), "EURUSD", int(time.time() * 1000), EURUSD[:1])
        sync.close()
        async with asyncio.timeout(15):
            chunk = await good.next()
        assert chunk is not None and chunk.startswith(b"event: tick")
        assert hub.subscribers == {good}
    finally:
        await hub.close()
        await client.aclose()


async def test_a_quiet_stream_gets_a_keepalive_comment(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    hub = LiveHub(client, Keys(PREFIX), max_streams=10, per_client=10, keepalive=0.5)
    try:
        quiet = hub.subscribe("EURUSD", "", "10.0.0.1")  # no ticks, no results, no state
        async with asyncio.timeout(15):
            assert await quiet.next() == b": keep-alive\n\n"
    finally:
        await hub.close()
        await client.aclose()


async def test_behind_a_trusted_proxy_streams_are_counted_per_forwarded_client(
    redis_url: str,
) -> None:
    """Every viewer reaches the gateway from the proxy's one address: the cap applies to
    the client the proxy names in X-Forwarded-For."""
    config = GatewayConfig(port=0, symbols_ttl=0, allow=("*",), trusted_proxies=("127.0.0.1",))
    with serving(redis_url, config) as served:
        port = port_of(served)

        def via_proxy(client: str) -> LiveClient:
            return LiveClient("127.0.0.1", port, QUERY, None, (*AUTH, ("X-Forwarded-For", client)))

        held = [via_proxy("10.0.0.1") for _ in range(8)]
        try:
            assert [await c.open() for c in held] == [200] * 8
            assert await via_proxy("10.0.0.1").open() == 429
            other = via_proxy("10.0.0.2")
            held.append(other)
            assert await other.open() == 200
        finally:
            await close_all(held)
