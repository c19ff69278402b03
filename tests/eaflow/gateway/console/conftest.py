"""A gateway serving the console and the configuration API, with ACCOUNTS seeded and the
admin source `ops`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.eaflow.gateway.console.accounts import ADMIN_SECRET, seed_accounts
from tests.eaflow.gateway.served import Served, serving


@pytest.fixture
def console(redis_url: str, tmp_path: Path) -> Iterator[Served]:
    with serving(redis_url, config_db=tmp_path / "eaflow.duckdb") as served:
        served.add_source(name="ops", secret=ADMIN_SECRET, admin=True)
        seed_accounts(served.client)
        yield served
