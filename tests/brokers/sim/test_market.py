"""What the held accounts of one executor share, read once however many ask."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis
import redis.asyncio as aioredis

from brokers.sim.market import TICKET_BLOCK, SimMarket
from brokers.sim.server import SimServer
from brokers.sim.store import AccountKeys
from tests.brokers.sim.conftest import EURUSD_OPEN, PREFIX, USDJPY_OPEN, quote


@pytest.fixture
async def market(redis_url: str) -> AsyncIterator[SimMarket]:
    found = SimMarket(aioredis.Redis.from_url(redis_url), redis.Redis.from_url(redis_url), PREFIX)
    yield found
    await found.close()


async def calls(client: aioredis.Redis, command: str) -> int:
    stats = await client.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


async def test_quotes_are_queued_once_per_pipeline(
    market: SimMarket, redis_client: redis.Redis
) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    quote(redis_client, "USDJPY", USDJPY_OPEN)
    pipe = market.redis.pipeline(transaction=False)
    first = market.queue(pipe, ["EURUSD", "USDJPY"], tickets=4)
    second = market.queue(pipe, ["USDJPY", "EURUSD"], tickets=4)  # another account, same batch
    assert first == ["@closed", "@tickets", "EURUSD", "USDJPY"] and second == []
    market.absorb(first, await pipe.execute())
    assert (market.ticks["EURUSD"].ask, market.ticks["USDJPY"].bid) == (
        EURUSD_OPEN[2],
        USDJPY_OPEN[1],
    )
    later = market.queue(market.redis.pipeline(transaction=False), ["EURUSD"], tickets=4)
    assert later == ["@closed", "EURUSD"]  # a new batch reads again; the pool still has tickets


async def test_tickets_come_from_the_shared_counter_without_gaps_in_a_block(
    market: SimMarket, redis_client: redis.Redis
) -> None:
    redis_client.set(f"{PREFIX}sim:tickets", 1000)
    pipe = market.redis.pipeline(transaction=False)
    market.absorb(market.queue(pipe, [], tickets=3), await pipe.execute())
    assert [market.next_ticket() for _ in range(3)] == [1001, 1002, 1003]
    for _ in range(TICKET_BLOCK - 3):
        market.next_ticket()
    assert market.next_ticket() == 1001 + TICKET_BLOCK  # a block reserved when the pool ran out
    assert int(redis_client.get(f"{PREFIX}sim:tickets") or 0) == 1000 + 2 * TICKET_BLOCK


async def test_accounts_loading_together_are_read_in_one_transaction(
    market: SimMarket, redis_client: redis.Redis
) -> None:
    server = SimServer(redis_client, prefix=PREFIX)
    logins = list(range(9_000_001, 9_000_021))
    for login in logins:
        server.open_account(login, balance=1_000 + login % 100)
    before = await calls(market.redis, "multi")
    replies = await asyncio.gather(
        *(market.read_account(AccountKeys(PREFIX, login)) for login in logins)
    )
    assert await calls(market.redis, "multi") == before + 1
    balances = [float(account[b"balance"]) for account, _, _ in replies]
    assert balances == [1_000 + login % 100 for login in logins]


async def test_an_account_asking_while_a_read_is_on_its_way_is_read_next(
    market: SimMarket, redis_client: redis.Redis
) -> None:
    """Regression: the second account waited forever (its request was queued after the
    first read had taken its list, and nothing read it)."""
    server = SimServer(redis_client, prefix=PREFIX)
    server.open_account(9_000_101, balance=1_000)
    server.open_account(9_000_102, balance=2_000)
    first = asyncio.ensure_future(market.read_account(AccountKeys(PREFIX, 9_000_101)))
    await asyncio.sleep(0)  # the first read is on its way
    second = await asyncio.wait_for(market.read_account(AccountKeys(PREFIX, 9_000_102)), 10)
    assert float(second[0][b"balance"]) == 2_000
    assert float((await first)[0][b"balance"]) == 1_000
