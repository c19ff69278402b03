"""The console's configuration panel over HTTP: each value with its source, the history of the
instance's and the global scope; an admin's change validated, stored, published, recorded;
a viewer's refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from eaflow.config.store import ConfigStore
from model import InstanceSpec
from tests.eaflow.gateway.console.accounts import ADMIN_SECRET, KEYS
from tests.eaflow.gateway.served import Served, serving

OPS = {"Authorization": f"Bearer {ADMIN_SECRET}"}


def configure(served: Served, path: str, values: dict[str, Any]) -> None:
    """Set `values` through the configuration API (`/config`, `/config/instances/{id}`)."""
    done = httpx.patch(f"{served.url}{path}", json={"set": values}, headers=OPS)
    assert done.status_code == 200, done.text


def shown(client: httpx.Client, instance: str) -> dict[str, Any]:
    answer = client.get(f"/console/api/config/{instance}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def sourced(view: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    return {f["field"]: (f["value"], f["source"]) for f in view["fields"]}


def published(served: Served, instance: str) -> InstanceSpec:
    raw = served.client.hget(KEYS.instances, instance)
    assert raw is not None
    return InstanceSpec.model_validate_json(raw)


def test_each_value_is_shown_with_its_source_and_the_history_of_both_scopes(
    console: Served, viewer: httpx.Client
) -> None:
    configure(
        console,
        "/config",
        {"max_spread": 30, "trailing_stop.distance": 50, "slippage": "1.5", "lot_size": "0.05"},
    )
    configure(console, "/config", {"trading_state": "halted"})  # the kill switch: not inherited
    configure(
        console,
        "/config/instances/demo-1",
        {
            "max_open_orders": 5,
            "trailing_stop": True,
            "symbols.XAUUSD.lot_size": "0.1",
            "slippage_points": 20,
            "lot_size": "0.02",
        },
    )
    configure(console, "/config/instances/demo-2", {"reverse": True})

    view = shown(viewer, "demo-1")
    fields = sourced(view)
    assert {path: fields[path] for path in fields if path.startswith("symbols.")} == {
        "symbols.XAUUSD.lot_size": ("0.1", "instance")
    }
    assert {
        path: fields[path]
        for path in (
            "max_open_orders",
            "lot_size",
            "max_spread",
            "trailing_stop.enabled",
            "trailing_stop.distance",
            "trailing_stop.step",
            "slippage_points",
            "slippage",
            "trading_state",
            "reverse",
            "risk.on_limit",
            "allowed_symbols",
            "symbol_map",
        )
    } == {
        "max_open_orders": (5, "instance"),
        "lot_size": ("0.02", "instance"),  # over the global 0.05
        "max_spread": (30, "global"),
        "trailing_stop.enabled": (True, "instance"),  # `true` sets only `enabled`
        "trailing_stop.distance": (50, "global"),
        "trailing_stop.step": (0, "default"),
        "slippage_points": (20, "instance"),
        "slippage": (None, "default"),  # the instance's points drop the global pips
        "trading_state": ("active", "default"),
        "reverse": (False, "default"),  # demo-2's own setting
        "risk.on_limit": ("halted", "default"),
        "allowed_symbols": ([], "default"),
        "symbol_map": ({}, "default"),
    }
    assert len(fields) == len(view["fields"])  # each path once
    assert view["applied"] is None  # no instance reported applying a version
    assert [(c["scope"], c["actor"], c["version"]) for c in view["history"]] == [
        ("demo-1", "source:ops", view["version"] - 1),
        ("global", "source:ops", view["version"] - 2),
        ("global", "source:ops", view["version"] - 3),
    ]  # newest first, without demo-2's change
    assert view["history"][0]["change"]["set"]["max_open_orders"] == 5

    other = sourced(shown(viewer, "demo-2"))
    assert (other["slippage"], other["lot_size"], other["reverse"]) == (
        ("1.5", "global"),
        ("0.05", "global"),
        (True, "instance"),
    )


def test_an_admin_change_is_stored_published_and_in_the_history_under_its_actor(
    console: Served, admin: httpx.Client, tmp_path: Path
) -> None:
    assert sourced(shown(admin, "demo-1"))["max_open_orders"] == (200, "default")
    changed = admin.patch(
        "/console/api/config/demo-1",
        json={"set": {"max_open_orders": 7, "symbols.XAUUSD.max_spread": 40}},
    )
    assert changed.status_code == 200, changed.text
    done = changed.json()
    assert (done["published"], done["error"], done["note"]) == (
        True,
        None,
        "console: set max_open_orders, symbols.XAUUSD.max_spread",
    )
    assert done["document"] == {"max_open_orders": 7, "symbols": {"XAUUSD": {"max_spread": 40}}}
    spec = published(console, "demo-1")
    assert (spec.config.max_open_orders, spec.config_version) == (7, done["version"])
    assert spec.config.symbols["XAUUSD"].max_spread == 40
    assert published(console, "demo-2").config.max_open_orders == 200

    [stored] = ConfigStore(tmp_path / "eaflow.duckdb").history("demo-1", 1)
    assert (stored.version, stored.actor, stored.note, stored.change) == (
        done["version"],
        "source:ops",
        done["note"],
        {"set": {"max_open_orders": 7, "symbols.XAUUSD.max_spread": 40}},
    )
    recorded = console.security_events()[-1]
    assert {k: recorded[k] for k in ("event", "actor", "action", "instance", "version")} == {
        "event": "console_action",
        "actor": "source:ops",
        "action": "config_change",
        "instance": "demo-1",
        "version": done["version"],
    }
    view = shown(admin, "demo-1")
    assert sourced(view)["max_open_orders"] == (7, "instance")
    assert (view["version"], view["history"][0]["actor"]) == (done["version"], "source:ops")

    inherited = admin.patch("/console/api/config/demo-1", json={"unset": ["max_open_orders"]})
    assert inherited.status_code == 200, inherited.text
    assert inherited.json()["note"] == "console: unset max_open_orders"
    assert published(console, "demo-1").config.max_open_orders == 200
    view = shown(admin, "demo-1")
    assert sourced(view)["max_open_orders"] == (200, "default")
    assert view["history"][0]["change"] == {"unset": ["max_open_orders"]}


def test_invalid_changes_are_refused_naming_the_field_and_the_rule(
    console: Served, admin: httpx.Client
) -> None:
    before = published(console, "demo-1")
    for path, body, field, rule in (
        ("demo-1", {"set": {"max_open_orders": -1}}, "max_open_orders", "greater than or equal"),
        ("demo-1", {"set": {"symbols.EURUSD.lot_size": "0"}}, "symbols.EURUSD.lot_size", "greater"),
        ("demo-1", {"set": {"risk.timezone": "Mars/Base"}}, "risk.timezone", "IANA"),
        ("demo-1", {"set": {"leverage": 5}}, "leverage", "is not a configuration field"),
        ("demo-1", {"set": {"max_open_orders": 2**64}}, "max_open_orders", "fit in 64 bits"),
        ("demo-1", {"unset": ["a..b"]}, "a..b", "is not a field path"),
        ("demo-1", {}, "set", "at least one field"),
        ("demo-9", {"set": {"max_open_orders": 5}}, "instance", "unknown instance demo-9"),
    ):
        refused = admin.patch(f"/console/api/config/{path}", json=body)
        assert refused.status_code == 422, (body, refused.text)
        detail = refused.json()["detail"]
        assert detail["field"] == field and rule in detail["rule"], detail
        assert detail["error"].startswith(f"{field}: ")
    extra = admin.patch("/console/api/config/demo-1", json={"set": {}, "actor": "me"})
    assert extra.status_code == 422 and extra.json()["field"] == "actor"
    unknown = admin.get("/console/api/config/demo-9")
    assert unknown.status_code == 422 and unknown.json()["detail"]["field"] == "instance"
    global_scope = admin.get("/console/api/config/*")
    assert global_scope.status_code == 422 and global_scope.json()["field"] == "instance"
    assert published(console, "demo-1") == before
    assert all(e["event"] != "console_action" for e in console.security_events())


def test_a_viewer_reads_but_a_change_is_refused_and_recorded(
    console: Served, viewer: httpx.Client
) -> None:
    assert sourced(shown(viewer, "demo-1"))["max_open_orders"] == (200, "default")
    refused = viewer.patch("/console/api/config/demo-1", json={"set": {"max_open_orders": 1}})
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"]["field"] == "session"
    event = console.security_events()[-1]
    assert (event["kind"], event["path"]) == ("admin", "/console/api/config/demo-1")
    no_token = httpx.patch(
        f"{console.url}/console/api/config/demo-1", json={"set": {"max_open_orders": 1}}
    )
    assert no_token.status_code == 401
    assert published(console, "demo-1").config.max_open_orders == 200
    assert shown(viewer, "demo-1")["history"] == []


def test_without_a_configuration_service_the_panel_answers_503(redis_url: str) -> None:
    with serving(redis_url) as served, httpx.Client(base_url=served.url) as client:
        assert client.get("/console", params={"token": "viewer-token-0123456789abcdef"})
        answer = client.get("/console/api/config/demo-1")
        assert answer.status_code == 503, answer.text
        assert answer.json()["detail"]["field"] == "configuration"
