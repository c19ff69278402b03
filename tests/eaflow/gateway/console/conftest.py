"""A gateway serving the console and the configuration API, with ACCOUNTS seeded and the
admin source `ops`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.eaflow.gateway.console.accounts import ADMIN_SECRET, seed_accounts
from tests.eaflow.gateway.served import VIEWER, Served, serving


@pytest.fixture
def console(redis_url: str, tmp_path: Path) -> Iterator[Served]:
    with serving(redis_url, config_db=tmp_path / "eaflow.duckdb") as served:
        served.add_source(name="ops", secret=ADMIN_SECRET, admin=True)
        seed_accounts(served.client)
        yield served


@contextmanager
def browser_like(served: Served) -> Iterator[httpx.Client]:
    """A client holding the viewer's cookie, as a browser that opened the printed link."""
    with httpx.Client(base_url=served.url, timeout=10, follow_redirects=True) as client:
        assert client.get("/console", params={"token": VIEWER}).status_code == 200
        yield client


@contextmanager
def signed_in(served: Served) -> Iterator[httpx.Client]:
    """A browser-like client signed in as the admin source `ops` (ADMIN_SECRET)."""
    with browser_like(served) as client:
        signed = client.post(
            "/console/api/session", headers={"Authorization": f"Bearer {ADMIN_SECRET}"}
        )
        assert signed.status_code == 200, signed.text
        assert signed.json() == {"admin": "source:ops"}
        assert client.get("/console/api/session").json() == {"admin": "source:ops"}
        yield client


@pytest.fixture
def viewer(console: Served) -> Iterator[httpx.Client]:
    with browser_like(console) as client:
        yield client


@pytest.fixture
def admin(console: Served) -> Iterator[httpx.Client]:
    with signed_in(console) as client:
        yield client
