"""Chaos fixtures: a Redis of its own with AOF (fsync always) that the run may kill."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.cluster import AOF
from tests.chaos.schedule import ChaosConfig
from tests.redis_server import RedisServer


@pytest.fixture
def chaos_config() -> ChaosConfig:
    config = ChaosConfig.from_env()
    print(f"chaos seed {config.seed} (replay with EAFLOW_CHAOS_SEED={config.seed})")
    return config


@pytest.fixture
def aof_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(workdir=tmp_path / "redis", extra_args=AOF).start()
    yield server
    server.stop()
