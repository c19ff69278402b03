"""The `ticks` worker as `eaflow run` installs it: recorded feed → agent → a simulated
instance's trailing stop → `rtrs`, all wired from the registry."""

from __future__ import annotations

import asyncio
from itertools import islice
from typing import Any

import redis

from brokers.mt5 import constants as mt5
from brokers.sim.server import SimServer
from brokers.sim.terminal import SimTerminal
from eaflow.install.pipeline import build_pipeline
from eaflow.install.workers import install
from eaflow.settings import Settings
from model import InstanceSpec, OrderStatus, Result, TradingConfig, TrailingStop
from model.keys import Keys
from model.tick import encode_tick
from processors.ticks.recorded import read_ticks, recorded_files
from processors.ticks.replay import ReplayConfig

PREFIX = "ea:"
LOGIN = 6_400_001


async def test_the_installed_worker_trails_a_sim_instance_on_the_recorded_feed(
    redis_url: str, redis_client: redis.Redis
) -> None:
    first = next(islice(read_ticks(recorded_files()["EURUSD"]), 1))
    SimServer(redis_client, prefix=PREFIX).open_account(LOGIN)
    terminal = SimTerminal(redis_client, prefix=PREFIX)
    assert terminal.initialize(login=LOGIN, server="eaflow-sim")
    redis_client.xadd(Keys(PREFIX).ticks("EURUSD"), {"d": encode_tick(first)})
    sent = terminal.order_send({
        "action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.1, "magic": 77,
        "type": mt5.ORDER_TYPE_BUY, "type_filling": mt5.ORDER_FILLING_FOK,
    })  # fmt: skip
    assert sent is not None and sent.retcode == mt5.TRADE_RETCODE_DONE

    # as fast as possible, kept whole (no MAXLEN trimming) so that a worker slowed down by a
    # busy machine still sees the early ticks that move the SL, whenever it reads them
    replay = ReplayConfig(speed=0, loop=False, symbols=("EURUSD",), maxlen=100_000)
    p = build_pipeline(Settings(redis_url=redis_url, prefix=PREFIX), redis_url, replay=replay)
    config = TradingConfig(trailing_stop=TrailingStop(enabled=True, distance=30, step=10))
    await p.registry.put(InstanceSpec(instance_id="t-1", login=LOGIN, magic=77, config=config))
    await install(p, ["ticks"])
    assert any(line.startswith("tick feed: EURUSD") for line in p.running)
    await p.app.start()
    try:
        moves = await asyncio.wait_for(trailing_results(p.topics.rtrs.key, redis_client), 60)
    finally:
        await p.app.stop()
        await p.redis.aclose()
    assert {(r.instance, r.position_ticket, r.source) for r in moves} == {
        ("t-1", sent.order, "trailing")
    }
    prices = [float(r.price or 0) for r in moves]
    assert prices == sorted(set(prices))  # only ever forward, each move once


async def trailing_results(key: str, client: redis.Redis) -> list[Result]:
    """The SL moves in `rtrs`, once the worker has made at least three."""
    while True:
        entries: Any = client.xrange(key)
        results = [Result.model_validate_json(fields[b"d"]) for _, fields in entries]
        moves = [r for r in results if r.status is OrderStatus.MODIFIED]
        if len(moves) >= 3:
            return moves
        await asyncio.sleep(0.05)
