"""App: topics, producers, and running until a signal."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from pydantic import BaseModel

from streams import App, ModelCodec
from tests.redis_server import free_port
from tests.streams.conftest import entries, until, values

ROOT = Path(__file__).parents[2]


class Tick(BaseModel):
    bid: float


def test_topic_names_and_types(app: App) -> None:
    ticks = app.topic("ticks:EURUSD", codec=ModelCodec(Tick), maxlen=1000)
    assert (ticks.name, ticks.key, ticks.maxlen, ticks.value_type) == (
        "ticks:EURUSD",
        "t:ticks:EURUSD",
        1000,
        Tick,
    )
    assert app.topic("rtss").value_type is object


@pytest.mark.parametrize(("name", "maxlen", "field"), [("", None, "name"), ("x", 0, "maxlen")])
def test_bad_topics_name_the_field(app: App, name: str, maxlen: int | None, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        app.topic(name, maxlen=maxlen)


async def test_send_and_send_many(app: App, r: aioredis.Redis) -> None:
    ticks = app.topic("ticks", codec=ModelCodec(Tick))
    first = await ticks.send(Tick(bid=1.1))
    more = await app.send_many(ticks, [Tick(bid=1.2), Tick(bid=1.3)])
    assert [entry_id for entry_id, _ in await entries(r, "t:ticks")] == [first, *more]
    assert await values(r, "t:ticks") == [b'{"bid":1.1}', b'{"bid":1.2}', b'{"bid":1.3}']


async def test_capped_topic_trims_itself_approximately(app: App, r: aioredis.Redis) -> None:
    ticks = app.topic("ticks", maxlen=100)
    for start in range(0, 1000, 250):
        await ticks.send_many(range(start, start + 250))
    length = await r.xlen("t:ticks")
    assert 100 <= length < 1000
    assert (await values(r, "t:ticks"))[-1] == b"999"


RUN = """
import sys
from streams import App, AppSettings

app = App(AppSettings(redis_url=sys.argv[1], prefix="t:", block_ms=50))

@app.timer(0.01)
async def beat() -> None:
    await app.redis.incr("t:beats")

app.run()
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_run_stops_gracefully_on_a_signal(
    redis_url: str, r: aioredis.Redis, signum: signal.Signals
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUN, redis_url,
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:

        async def beating() -> bool:
            return int(await r.get("t:beats") or 0) > 0

        await until(beating, "the timer in the child")
        process.send_signal(signum)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, output.decode()
    assert b"app.stopped" in output


async def test_a_signal_stops_a_worker_still_waiting_for_redis() -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    script = RUN.replace("app.run()", "app.agent(app.topic('in'), group='g')(handle)\napp.run()")
    script = script.replace("@app.timer", "async def handle(event, out) -> None: ...\n\n@app.timer")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, nowhere,
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        async with asyncio.timeout(30):
            while b"agent.redis_unavailable" not in await process.stdout.readline():
                pass
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, output.decode()
    assert b"app.stopped" in output
