"""The configuration API behind the gateway: only admin sources' secrets open it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from model import InstanceSpec
from tests.eaflow.gateway.served import PREFIX, SECRET, Served, serving

ADMIN_SECRET = "admin-secret-0123456789abcdef"


@pytest.fixture
def admin(redis_url: str, tmp_path: Path) -> Iterator[tuple[Served, httpx.Client]]:
    with (
        serving(redis_url, config_db=tmp_path / "eaflow.duckdb") as served,
        httpx.Client(base_url=served.url, timeout=30) as http,
    ):
        served.add_source(name="ops", secret=ADMIN_SECRET, admin=True)
        spec = InstanceSpec(instance_id="demo-1", login=5_000_001)
        served.client.hset(f"{PREFIX}instances", "demo-1", spec.model_dump_json())
        yield served, http


def test_refused_without_an_admin_secret(admin: tuple[Served, httpx.Client]) -> None:
    served, http = admin
    for headers in ({}, {"Authorization": f"Bearer {SECRET}"}, {"Authorization": ADMIN_SECRET}):
        response = http.get("/config", headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["detail"]["field"] == "authorization"
        event = served.security_events()[-1]
        assert (event["kind"], event["path"]) == ("admin", "/config")
        assert SECRET not in response.text and SECRET not in str(event)


def test_an_admin_reads_and_changes_the_configuration(admin: tuple[Served, httpx.Client]) -> None:
    served, http = admin
    bearer = {"Authorization": f"Bearer {ADMIN_SECRET}"}
    before = http.get("/config", headers=bearer)
    assert before.status_code == 200, before.text
    changed = http.patch(
        "/config/instances/demo-1",
        headers=bearer,
        json={"set": {"max_open_orders": 5}, "actor": "test"},
    )
    assert changed.status_code == 200, changed.text
    view = http.get("/config/instances/demo-1", headers=bearer).json()
    assert view["config"]["max_open_orders"] == 5
    refused = http.patch("/config", headers=bearer, json={"set": {"max_open_orders": -1}})
    assert refused.status_code == 422
    assert served.security_events() == []
