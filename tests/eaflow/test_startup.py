"""install_when_ready: waits for Redis, builds a fresh pipeline per attempt, refuses bad input."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from eaflow.install.pipeline import Pipeline, build_pipeline
from eaflow.settings import Settings
from eaflow.startup import install_when_ready
from tests.redis_server import RedisServer, free_port


async def test_an_unknown_worker_topic_is_refused_at_once(redis_url: str) -> None:
    built: list[Pipeline] = []

    def build() -> Pipeline:
        built.append(build_pipeline(Settings(), redis_url))
        return built[-1]

    with pytest.raises(ValueError, match="worker: unknown topic nope"):
        await install_when_ready(build, ["nope"], interval=0.01)
    assert len(built) == 1
    await built[0].close()


async def test_install_waits_for_redis_then_runs_on_a_fresh_pipeline(tmp_path: Path) -> None:
    server = RedisServer(workdir=tmp_path, port=free_port())
    built: list[Pipeline] = []
    third = asyncio.Event()  # two attempts failed while Redis was down

    def build() -> Pipeline:
        built.append(build_pipeline(Settings(), server.url))
        if len(built) == 3:
            third.set()
        return built[-1]

    installing = asyncio.create_task(install_when_ready(build, ["orders"], interval=0.05))
    await asyncio.wait_for(third.wait(), timeout=30)
    assert not installing.done()
    await asyncio.to_thread(server.start)
    try:
        pipeline = await asyncio.wait_for(installing, timeout=30)
        assert pipeline is built[-1]
        assert any(line.startswith("executor: ") for line in pipeline.running)
        await pipeline.app.redis.aclose()
        await pipeline.redis.aclose()
    finally:
        server.stop()
