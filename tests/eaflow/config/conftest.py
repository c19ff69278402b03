"""A configuration service on a real Redis and a DuckDB file in the test's directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from eaflow.config import ConfigService, ConfigStore
from model import InstanceSpec
from processors.registry import InstanceRegistry

PREFIX = "ea:"


def spec(instance_id: str, login: int, **config: object) -> InstanceSpec:
    return InstanceSpec.model_validate(
        {"instance_id": instance_id, "login": login, "groups": ["demo"], "config": config}
    )


@pytest.fixture
async def registry(redis_url: str) -> AsyncIterator[InstanceRegistry]:
    client = aioredis.Redis.from_url(redis_url)
    yield InstanceRegistry(client, PREFIX)
    await client.aclose()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "config.duckdb"


@pytest.fixture
async def service(registry: InstanceRegistry, db_path: Path) -> ConfigService:
    await registry.put(spec("a", 1001), spec("b", 1002, max_open_orders=7))
    return ConfigService(ConfigStore(db_path), registry)
