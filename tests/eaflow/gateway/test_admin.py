"""The configuration API behind the gateway: only admin sources' secrets open it, from an
address their source allows; wrong tokens lock an address out; changes are recorded under
the source that made them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from eaflow.gateway.config import GatewayConfig
from model import InstanceSpec
from tests.eaflow.gateway.served import PREFIX, SECRET, UNCAPPED, Served, serving

ADMIN_SECRET = "admin-secret-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {ADMIN_SECRET}"}


@contextmanager
def admin_gateway(
    redis_url: str, tmp_path: Path, config: GatewayConfig | None = None
) -> Iterator[tuple[Served, httpx.Client]]:
    with (
        serving(redis_url, config, config_db=tmp_path / "eaflow.duckdb") as served,
        httpx.Client(base_url=served.url, timeout=30) as http,
    ):
        served.add_source(name="ops", secret=ADMIN_SECRET, admin=True)
        spec = InstanceSpec(instance_id="demo-1", login=5_000_001)
        served.client.hset(f"{PREFIX}instances", "demo-1", spec.model_dump_json())
        yield served, http


@pytest.fixture
def admin(redis_url: str, tmp_path: Path) -> Iterator[tuple[Served, httpx.Client]]:
    with admin_gateway(redis_url, tmp_path) as found:
        yield found


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
    before = http.get("/config", headers=BEARER)
    assert before.status_code == 200, before.text
    changed = http.patch(
        "/config/instances/demo-1", headers=BEARER, json={"set": {"max_open_orders": 5}}
    )
    assert changed.status_code == 200, changed.text
    view = http.get("/config/instances/demo-1", headers=BEARER).json()
    assert view["config"]["max_open_orders"] == 5
    refused = http.patch("/config", headers=BEARER, json={"set": {"max_open_orders": -1}})
    assert refused.status_code == 422
    assert served.security_events() == []


def test_the_history_records_the_authenticated_source_not_the_clients_word(
    admin: tuple[Served, httpx.Client],
) -> None:
    """Attack (#17): an admin claims to be someone else in `actor`."""
    _, http = admin
    claimed = http.patch(
        "/config/instances/demo-1",
        headers=BEARER,
        json={"set": {"max_open_orders": 4}, "actor": "alice (the other operator)"},
    )
    assert claimed.status_code == 422, claimed.text
    assert claimed.json()["detail"]["field"] == "actor"
    done = http.patch(
        "/config/instances/demo-1", headers=BEARER, json={"set": {"max_open_orders": 5}}
    )
    assert done.status_code == 200, done.text
    history = http.get("/config/history", headers=BEARER, params={"instance": "demo-1"}).json()
    assert [(c["actor"], c["change"]) for c in history] == [
        ("source:ops", {"set": {"max_open_orders": 5}})
    ]


def test_an_admin_sources_allowlist_applies_to_its_token(
    admin: tuple[Served, httpx.Client],
) -> None:
    """Attack (#5): the right admin token from an address its source does not allow."""
    served, http = admin
    served.add_source(name="ops", secret=ADMIN_SECRET, admin=True, allow=("10.0.0.0/8",))
    response = http.get("/config", headers=BEARER)
    assert response.status_code == 401, response.text
    wrong = http.get("/config", headers={"Authorization": "Bearer " + "w" * 29})
    assert response.json() == wrong.json()  # the answer does not confirm the token
    event = served.security_events()[-2]
    assert "allowlist" in event["error"] and event["ip"] == "127.0.0.1"
    assert ADMIN_SECRET not in str(served.security_events())


def test_wrong_admin_tokens_lock_the_address_out(redis_url: str, tmp_path: Path) -> None:
    """Attack (#13): guessing admin tokens on /config without end."""
    config = GatewayConfig(port=0, admin_attempts=3, **UNCAPPED)
    with admin_gateway(redis_url, tmp_path, config) as (served, http):
        assert http.get("/config", headers=BEARER).status_code == 200
        for n in range(3):
            guess = http.get("/config", headers={"Authorization": f"Bearer guess-{n:024d}"})
            assert guess.status_code == 401, guess.text
        locked = http.get("/config", headers=BEARER)  # even the right token, for a while
        assert locked.status_code == 429, locked.text
        assert locked.json()["detail"]["field"] == "authorization"
        assert 1 <= int(locked.headers["Retry-After"]) <= 900
        assert served.security_events()[-1]["kind"] == "admin"
