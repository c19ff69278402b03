"""Gateway fixtures: a running gateway on the test Redis, and an HTTP client to it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.gateway.served import Served, serving


@pytest.fixture
def served(redis_url: str) -> Iterator[Served]:
    with serving(redis_url) as gateway:
        yield gateway


@pytest.fixture
def http(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=10) as client:
        yield client
