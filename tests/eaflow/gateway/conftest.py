"""Gateway fixtures: one running gateway per test module on the session's Redis, emptied
(and given its `tradingview` source again) before each test, and an HTTP client to it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.eaflow.gateway.served import BEARER, Served, serving
from tests.redis_server import RedisServer


@pytest.fixture(scope="module")
def gateway_server(redis_server: RedisServer) -> Iterator[Served]:
    with serving(redis_server.url) as gateway:
        yield gateway


@pytest.fixture
def served(gateway_server: Served, redis_url: str) -> Served:
    gateway_server.add_source(name="tradingview")
    return gateway_server


@pytest.fixture
def http(served: Served) -> Iterator[httpx.Client]:
    """A client with the viewer token (the webhook ignores it)."""
    with httpx.Client(base_url=served.url, timeout=10, headers=BEARER) as client:
        yield client
