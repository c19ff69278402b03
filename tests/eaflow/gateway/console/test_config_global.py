"""The configuration panel's global scope over HTTP (`/console/api/config`): each value set
there or the default, the global history only; an admin's change validated, stored,
published to every instance inheriting it and recorded; a viewer's refused."""

from __future__ import annotations

from pathlib import Path

import httpx

from eaflow.config.store import ConfigStore
from tests.eaflow.gateway.console.test_config import configure, published, sourced
from tests.eaflow.gateway.served import Served, serving


def test_the_global_scope_is_shown_with_its_sources_and_its_own_history(
    console: Served, viewer: httpx.Client
) -> None:
    configure(console, "/config", {"max_spread": 30, "trailing_stop.distance": 50})
    configure(console, "/config", {"trading_state": "halted"})  # the kill switch: shown here
    configure(console, "/config/instances/demo-1", {"max_open_orders": 5})
    answer = viewer.get("/console/api/config")
    assert answer.status_code == 200, answer.text
    view = answer.json()
    fields = sourced(view)
    assert {
        path: fields[path]
        for path in (
            "max_spread",
            "trailing_stop.distance",
            "trailing_stop.step",
            "trading_state",
            "max_open_orders",
        )
    } == {
        "max_spread": (30, "global"),
        "trailing_stop.distance": (50, "global"),
        "trailing_stop.step": (0, "default"),
        "trading_state": ("halted", "global"),
        "max_open_orders": (200, "default"),  # demo-1's own value is not the global one
    }
    assert {source for _, source in fields.values()} == {"global", "default"}
    assert len(fields) == len(view["fields"])
    assert view["scope"] == "global" and "instance" not in view
    assert [(c["scope"], c["actor"], c["version"]) for c in view["history"]] == [
        ("global", "source:ops", view["version"] - 1),
        ("global", "source:ops", view["version"] - 2),
    ]  # newest first, without demo-1's change


def test_an_admin_global_change_is_stored_published_to_every_instance_and_recorded(
    console: Served, admin: httpx.Client, tmp_path: Path
) -> None:
    configure(console, "/config/instances/demo-2", {"max_open_orders": 3})
    changed = admin.patch("/console/api/config", json={"set": {"max_open_orders": 7}})
    assert changed.status_code == 200, changed.text
    done = changed.json()
    assert (done["scope"], done["published"], done["note"], done["document"]) == (
        "global",
        True,
        "console: set max_open_orders",
        {"max_open_orders": 7},
    )
    assert published(console, "demo-1").config.max_open_orders == 7  # inherited
    assert published(console, "demo-2").config.max_open_orders == 3  # its own wins
    [stored] = ConfigStore(tmp_path / "eaflow.duckdb").history("*", 1)
    assert (stored.version, stored.actor, stored.note, stored.change) == (
        done["version"],
        "source:ops",
        "console: set max_open_orders",
        {"set": {"max_open_orders": 7}},
    )
    recorded = console.security_events()[-1]
    assert {k: recorded[k] for k in ("actor", "action", "scope", "set", "version")} == {
        "actor": "source:ops",
        "action": "config_change",
        "scope": "global",
        "set": {"max_open_orders": 7},
        "version": done["version"],
    }
    view = admin.get("/console/api/config").json()
    assert sourced(view)["max_open_orders"] == (7, "global")
    assert view["history"][0]["version"] == done["version"]

    back = admin.patch("/console/api/config", json={"unset": ["max_open_orders"]})
    assert back.status_code == 200, back.text
    assert published(console, "demo-1").config.max_open_orders == 200
    assert sourced(admin.get("/console/api/config").json())["max_open_orders"] == (200, "default")


def test_invalid_global_changes_and_viewers_are_refused(
    console: Served, viewer: httpx.Client, admin: httpx.Client
) -> None:
    before = published(console, "demo-1")
    for body, field, rule in (
        ({"set": {"max_open_orders": -1}}, "max_open_orders", "greater than or equal"),
        ({"set": {"leverage": 5}}, "leverage", "is not a configuration field"),
        ({}, "set", "at least one field"),
    ):
        refused = admin.patch("/console/api/config", json=body)
        assert refused.status_code == 422, (body, refused.text)
        detail = refused.json()["detail"]
        assert detail["field"] == field and rule in detail["rule"], detail
    assert all(e["event"] != "console_action" for e in console.security_events())
    refused = viewer.patch("/console/api/config", json={"set": {"max_open_orders": 1}})
    assert refused.status_code == 403 and refused.json()["detail"]["field"] == "session"
    event = console.security_events()[-1]
    assert (event["kind"], event["path"]) == ("admin", "/console/api/config")
    assert published(console, "demo-1") == before
    assert viewer.get("/console/api/config").json()["history"] == []


def test_without_a_configuration_service_the_global_scope_answers_503(redis_url: str) -> None:
    with serving(redis_url) as served, httpx.Client(base_url=served.url) as client:
        assert client.get("/console", params={"token": "viewer-token-0123456789abcdef"})
        answer = client.get("/console/api/config")
        assert answer.status_code == 503, answer.text
        assert answer.json()["detail"]["field"] == "configuration"
