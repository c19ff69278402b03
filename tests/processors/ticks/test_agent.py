"""The `ticks` agent on a real Redis: the recordings replayed through the pipeline end in the
table exactly, bars match SQL over the same ticks, a restarted worker rebuilds its table
from the stream, and a simulated account is traded on the replayed ticks."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from functools import cache
from itertools import islice
from typing import Any

import numpy as np
import orjson
import pytest
import redis
import redis.asyncio as aioredis

from brokers.mt5 import constants as mt5
from brokers.sim.server import SimServer
from brokers.sim.terminal import SimTerminal
from model import OrderStatus, Result, TradingConfig, TrailingStop
from model.keys import Keys
from model.tick import Tick, encode_tick, entry_tick
from model.topics import Topics
from processors.ticks.accounts import TickAccount
from processors.ticks.agent import TickAgent, subscribe, subscribed
from processors.ticks.recorded import read_ticks, recorded_files
from processors.ticks.replay import ReplayConfig, TickReplay
from streams import App, AppSettings
from streams.bars import tumbling_bars
from streams.ring import Ticks
from tests.streams.test_bars import duckdb_bars

PREFIX = "ea:"
SYMBOLS = ("EURUSD", "NZDUSD", "XAUUSD")


@cache
def recorded(symbol: str) -> tuple[Tick, ...]:
    return tuple(read_ticks(recorded_files()[symbol]))


@pytest.fixture
async def redis_async(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


class Worker:
    """A `ticks` worker: app, table and agent, as `install_ticks` wires them."""

    def __init__(self, url: str, accounts: dict[str, TickAccount] | None = None) -> None:
        settings = AppSettings(redis_url=url, prefix=PREFIX, block_ms=100, start_id="0")
        self.app = App(settings)
        self.topics = Topics(self.app)
        self.table = self.app.table("ticks")
        self.agent = TickAgent(self.topics, self.table, accounts, always=frozenset(SYMBOLS))
        topics = [self.topics.ticks(s) for s in SYMBOLS]
        self.app.agent(topics, group="ticks", batch="columns", batch_size=1000)(self.agent.handle)

    async def start(self) -> None:
        await self.agent.refresh()  # recovers the table from the streams
        await self.app.start()

    async def caught_up(self, client: aioredis.Redis, symbols: Sequence[str] = SYMBOLS) -> None:
        """Wait until the table holds each stream's newest tick."""
        while True:
            newest = [
                entry_tick(await client.xrevrange(Keys(PREFIX).ticks(s), count=1)) for s in symbols
            ]
            if all(
                t is not None and self.table.ring(s).newest_msc() == t.time_msc
                for s, t in zip(symbols, newest, strict=True)
            ):
                return
            await asyncio.sleep(0.02)


def prices(ticks: Ticks) -> list[tuple[float, float]]:
    return list(zip(ticks["bid"].tolist(), ticks["ask"].tolist(), strict=True))


def recorded_prices(ticks: Sequence[Tick]) -> list[tuple[float, float]]:
    return [(t.bid, t.ask) for t in ticks]


async def test_the_replayed_recordings_end_in_the_table_exactly(
    redis_url: str, redis_async: aioredis.Redis
) -> None:
    worker = Worker(redis_url)
    await worker.start()
    try:
        replay = TickReplay(redis_async, PREFIX, ReplayConfig(speed=0, loop=False, batch=500))
        await replay.run()
        await asyncio.wait_for(worker.caught_up(redis_async), 60)
    finally:
        await worker.app.stop()
    for symbol in SYMBOLS:
        held = worker.table.ring(symbol).ticks()
        tail = recorded(symbol)[-1000:]
        assert len(held) == 1000
        assert prices(held) == recorded_prices(tail)
        shift = int(held["time_msc"][0]) - tail[0].time_msc  # the replay starts "now"
        assert (held["time_msc"] - shift).tolist() == [t.time_msc for t in tail]
        bars = worker.table.bars(symbol, "1m")
        expected = duckdb_bars(held, 60_000)
        for field in bars.dtype.names or ():
            assert np.array_equal(bars[field], expected[field]), (symbol, field)
        assert await redis_async.xlen(Keys(PREFIX).ticks(symbol)) < 1200  # MAXLEN ~ 1000


async def test_a_restarted_worker_rebuilds_its_table_from_the_stream(
    redis_url: str, redis_async: aioredis.Redis
) -> None:
    ticks = list(islice(recorded("EURUSD"), 6500))
    replay = TickReplay(redis_async, PREFIX, ReplayConfig(speed=0, loop=False, batch=250))
    first = Worker(redis_url)
    await first.start()
    await replay.play(("EURUSD", t) for t in ticks[:3000])
    await asyncio.wait_for(first.caught_up(redis_async, ["EURUSD"]), 30)
    await first.app.stop()
    await replay.play(("EURUSD", t) for t in ticks[3000:5000])  # while no worker runs

    second = Worker(redis_url)
    await second.start()
    try:
        assert prices(second.table.ring("EURUSD").ticks()) == recorded_prices(ticks[4000:5000])
        await replay.play(("EURUSD", t) for t in ticks[5000:])
        await asyncio.wait_for(second.caught_up(redis_async, ["EURUSD"]), 30)
    finally:
        await second.app.stop()
    held = second.table.ring("EURUSD").ticks()
    assert prices(held) == recorded_prices(ticks[-1000:])
    assert (np.diff(held["time_msc"]) >= 0).all()
    assert np.array_equal(second.table.bars("EURUSD", "5m"), tumbling_bars(held, "5m"))


async def test_bad_ticks_are_skipped_one_not_json_dead_lettered_and_the_good_ones_buffered(
    redis_url: str, redis_async: aioredis.Redis
) -> None:
    ticks = list(islice(recorded("NZDUSD"), 4))
    key = Keys(PREFIX).ticks("NZDUSD")
    worker = Worker(redis_url)
    await worker.start()
    try:
        for raw in (
            encode_tick(ticks[0]),
            b"not json",
            orjson.dumps({"time": 1, "ask": 1.2}),  # no bid
            encode_tick(ticks[1]),
        ):
            await redis_async.xadd(key, {"d": raw})
        await redis_async.xadd(key, {"d": encode_tick(ticks[2]), "more": "x"})  # as entries
        await redis_async.xadd(key, {"d": encode_tick(ticks[3])})
        await asyncio.wait_for(worker.caught_up(redis_async, ["NZDUSD"]), 30)
        groups = {g["name"]: g for g in await redis_async.xinfo_groups(key)}
        assert groups[b"ticks"]["pending"] == 0
    finally:
        await worker.app.stop()
    assert prices(worker.table.ring("NZDUSD").ticks()) == recorded_prices(ticks)
    assert worker.agent.seen["NZDUSD"] == 4
    letters: Any = await redis_async.xrange(Keys(PREFIX).prefix + "dlq:ticks:NZDUSD")
    [(_, letter)] = letters
    assert (letter[b"d"], letter[b"group"], letter[b"deliveries"]) == (b"not json", b"ticks", b"1")
    assert letter[b"error"].startswith(b"d: is not valid JSON")  # the one not JSON, recorded


async def test_a_simulated_account_trades_on_the_replayed_ticks(
    redis_url: str, redis_client: redis.Redis, redis_async: aioredis.Redis
) -> None:
    ticks = list(islice(recorded("EURUSD"), 6000))
    SimServer(redis_client, prefix=PREFIX).open_account(6_200_001, balance=10_000)
    terminal = SimTerminal(redis_client, prefix=PREFIX)
    assert terminal.initialize(login=6_200_001, server="eaflow-sim")
    redis_client.xadd(Keys(PREFIX).ticks("EURUSD"), {"d": encode_tick(ticks[0])})
    sl = round(ticks[0].bid + 0.0030, 5)
    sent = terminal.order_send({
        "action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.1,
        "type": mt5.ORDER_TYPE_SELL, "sl": sl, "type_filling": mt5.ORDER_FILLING_FOK,
    })  # fmt: skip
    assert sent is not None and sent.retcode == mt5.TRADE_RETCODE_DONE
    hit = next(t for t in ticks[1:] if t.ask >= sl)
    account = TickAccount("demo-9", terminal, TradingConfig(), None, terminal.on_tick)
    worker = Worker(redis_url, {"demo-9": account})
    await worker.start()
    try:
        # kept whole: a worker slowed by a busy machine still sees the tick that hits the SL
        replay = TickReplay(redis_async, PREFIX, ReplayConfig(speed=0, loop=False, maxlen=10_000))
        await replay.play(("EURUSD", t) for t in ticks[1:])
        await asyncio.wait_for(worker.caught_up(redis_async, ["EURUSD"]), 30)
    finally:
        await worker.app.stop()
    entries: Any = await redis_async.xrange(worker.topics.rtrs.key)
    (result,) = [Result.model_validate_json(fields[b"d"]) for _, fields in entries]
    assert (result.status, result.source, result.instance) == (OrderStatus.CLOSED, "sl", "demo-9")
    assert (result.position_ticket, float(result.price or 0)) == (sent.order, hit.ask)
    assert not terminal.positions_get()
    assert await worker.agent.needed(await worker.agent.holdings()) == set(SYMBOLS)  # none held


async def test_subscriptions_lapse(redis_async: aioredis.Redis) -> None:
    await subscribe(redis_async, PREFIX, "USDJPY", seconds=60)
    await subscribe(redis_async, PREFIX, "EURJPY", seconds=-1)
    assert await subscribed(redis_async, PREFIX) == {"USDJPY"}
    assert await redis_async.zcard(f"{PREFIX}tick_subscriptions") == 1


async def test_an_alerts_trailing_stop_rides_with_its_position(
    redis_url: str, redis_client: redis.Redis, redis_async: aioredis.Redis
) -> None:
    """The router leaves an alert's trailing under its order's comment; the agent gives it to
    the account, whose position then trails by it though the configuration trails nothing.
    An entry whose position or order is gone for a day is forgotten."""
    SimServer(redis_client, prefix=PREFIX).open_account(6_200_002, balance=10_000)
    terminal = SimTerminal(redis_client, prefix=PREFIX)
    assert terminal.initialize(login=6_200_002, server="eaflow-sim")
    start = recorded("EURUSD")[0]
    redis_client.xadd(Keys(PREFIX).ticks("EURUSD"), {"d": encode_tick(start)})
    sent = terminal.order_send({
        "action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.1,
        "type": mt5.ORDER_TYPE_BUY, "type_filling": mt5.ORDER_FILLING_FOK,
        "comment": "trend#abcdefghijkl",
    })  # fmt: skip
    assert sent is not None and sent.retcode == mt5.TRADE_RETCODE_DONE
    trail = TrailingStop(enabled=True, distance=20, step=5)
    key = Keys(PREFIX).alert_trailing("demo-9")
    now = time.time()
    for comment, at in (("trend#abcdefghijkl", now - 3 * 86_400), ("on-its-way", now),
                        ("refused-long-ago", now - 2 * 86_400)):  # fmt: skip
        value = {"trailing": trail.model_dump(mode="json"), "at": at}
        await redis_async.hset(key, comment, orjson.dumps(value))
    account = TickAccount("demo-9", terminal, TradingConfig(), None, terminal.on_tick)
    worker = Worker(redis_url, {"demo-9": account})
    await worker.agent.refresh()
    assert account.trailer.alerts == {"trend#abcdefghijkl": trail, "on-its-way": trail}
    assert sorted(await redis_async.hkeys(key)) == [b"on-its-way", b"trend#abcdefghijkl"]
    up = start._replace(bid=round(sent.price + 0.00030, 5), ask=round(sent.price + 0.00043, 5),
                        time_msc=start.time_msc + 1000)  # fmt: skip
    redis_client.xadd(Keys(PREFIX).ticks("EURUSD"), {"d": encode_tick(up)})
    [moved] = account.apply("EURUSD", [up])
    assert (moved.source, moved.position_ticket) == ("trailing", sent.order)
    [position] = terminal.positions_get() or ()
    assert position.sl == round(up.bid - 0.00020, 5)


class CountingTerminal(SimTerminal):
    """A simulated terminal that counts the reads of what its account holds."""

    reads: Counter[str]

    def positions_get(self, *args: Any, **kwargs: Any) -> Any:
        self.reads["positions_get"] += 1
        return super().positions_get(*args, **kwargs)

    def orders_get(self, *args: Any, **kwargs: Any) -> Any:
        self.reads["orders_get"] += 1
        return super().orders_get(*args, **kwargs)


async def test_a_refresh_reads_each_accounts_positions_and_orders_once(
    redis_url: str, redis_client: redis.Redis, redis_async: aioredis.Redis
) -> None:
    """The symbols to buffer and the comments keeping alerts' trailing stops come from one
    read: a refresh costs each account one positions_get and one orders_get."""
    SimServer(redis_client, prefix=PREFIX).open_account(6_200_003, balance=10_000)
    terminal = CountingTerminal(redis_client, prefix=PREFIX)
    terminal.reads = Counter()
    assert terminal.initialize(login=6_200_003, server="eaflow-sim")
    redis_client.xadd(Keys(PREFIX).ticks("USDJPY"), {"d": encode_tick(recorded("EURUSD")[0])})
    sent = terminal.order_send({
        "action": mt5.TRADE_ACTION_PENDING, "symbol": "USDJPY", "volume": 0.1,
        "type": mt5.ORDER_TYPE_BUY_LIMIT, "price": 0.5, "comment": "dip#abcdefghijkl",
        "type_filling": mt5.ORDER_FILLING_RETURN, "type_time": mt5.ORDER_TIME_GTC,
    })  # fmt: skip
    assert sent is not None and sent.retcode == mt5.TRADE_RETCODE_PLACED, sent
    trail = TrailingStop(enabled=True, distance=20, step=5)
    value = {"trailing": trail.model_dump(mode="json"), "at": time.time() - 3 * 86_400}
    await redis_async.hset(
        Keys(PREFIX).alert_trailing("demo-9"), "dip#abcdefghijkl", orjson.dumps(value)
    )
    account = TickAccount("demo-9", terminal, TradingConfig(), None, terminal.on_tick)
    worker = Worker(redis_url, {"demo-9": account})
    terminal.reads.clear()
    await worker.agent.refresh()
    assert terminal.reads == Counter({"positions_get": 1, "orders_get": 1})
    assert "USDJPY" in worker.table.symbols  # held by the pending order: buffered
    assert account.trailer.alerts == {"dip#abcdefghijkl": trail}  # kept: its order is open
