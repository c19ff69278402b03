"""The console's API: viewers read, only a signed-in admin acts, each action recorded."""

from __future__ import annotations

import httpx
import orjson

from eaflow.gateway.viewer import Viewer
from streams.reader import text
from tests.eaflow.gateway.console.accounts import ADMIN_SECRET, trading_state
from tests.eaflow.gateway.served import BEARER, PREFIX, VIEWER, Served

HALT_EU = {"group": "eu", "state": "halted"}
VIEWER_COOKIE = Viewer(VIEWER)
ADMIN_COOKIE = VIEWER_COOKIE.cookie.replace("_viewer_", "_admin_")


def test_a_viewer_is_refused_every_action_and_nothing_changes(
    console: Served, viewer: httpx.Client
) -> None:
    assert viewer.get("/console/api/session").json() == {"admin": None}
    for path, body in (
        ("/console/api/trading_state", HALT_EU),
        ("/console/api/trading_state", {"instance": "demo-1", "state": "halted"}),
        ("/console/api/dlq/retry", {"stream": "rtss"}),
    ):
        refused = viewer.post(path, json=body)
        assert refused.status_code == 403, refused.text
        assert refused.json()["detail"]["field"] == "session"
        assert console.security_events()[-1]["kind"] == "admin"
    scripted = httpx.post(f"{console.url}/console/api/trading_state", json=HALT_EU, headers=BEARER)
    assert scripted.status_code == 403  # the viewer token opens the page, not the actions
    no_token = httpx.post(f"{console.url}/console/api/trading_state", json=HALT_EU)
    assert no_token.status_code == 401
    assert {trading_state(console.client, i) for i in ("demo-1", "demo-2")} == {"active"}


def test_a_wrong_secret_or_a_forged_cookie_gives_no_admin_session(
    console: Served, viewer: httpx.Client, admin: httpx.Client
) -> None:
    wrong = viewer.post("/console/api/session", headers={"Authorization": "Bearer " + "w" * 30})
    assert wrong.status_code == 401, wrong.text
    assert wrong.json()["detail"]["field"] == "authorization"
    name, expires, mac = admin.cookies[ADMIN_COOKIE].split(".")
    viewer_cookie = f"{VIEWER_COOKIE.cookie}={VIEWER_COOKIE.session}"
    for forged in (f"{name}.{int(expires) + 86_400}.{mac}", f"tradingview.{expires}.{mac}"):
        cookies = {"Cookie": f"{viewer_cookie}; {ADMIN_COOKIE}={forged}"}
        refused = httpx.post(
            f"{console.url}/console/api/trading_state", json=HALT_EU, headers=cookies
        )
        assert refused.status_code == 403, refused.text
    genuine = {"Cookie": f"{viewer_cookie}; {ADMIN_COOKIE}={name}.{expires}.{mac}"}
    session = httpx.get(f"{console.url}/console/api/session", headers=genuine)
    assert session.json() == {"admin": "source:ops"}
    console.add_source(name="ops", secret=ADMIN_SECRET, admin=False)  # demoted: session ends
    assert admin.get("/console/api/session").json() == {"admin": None}
    assert admin.post("/console/api/trading_state", json=HALT_EU).status_code == 403
    assert trading_state(console.client, "demo-1") == "active"


def test_an_admin_halts_and_resumes_a_group_recorded_under_its_source(
    console: Served, admin: httpx.Client
) -> None:
    halted = admin.post("/console/api/trading_state", json=HALT_EU)
    assert halted.status_code == 200, halted.text
    assert [(o["instance"], o["published"], o["error"]) for o in halted.json()] == [
        ("demo-1", True, None),
        ("demo-2", True, None),
    ]
    assert [trading_state(console.client, i) for i in ("demo-1", "demo-2", "demo-3")] == [
        "halted",
        "halted",
        "active",
    ]
    rows = {r["instance"]: r for r in admin.get("/console/api/overview").json()}
    assert rows["demo-1"]["status"] == "halted" and rows["demo-3"]["status"] == "disconnected"

    resumed = admin.post(
        "/console/api/trading_state", json={"instance": "demo-1", "state": "active"}
    )
    assert resumed.status_code == 200, resumed.text
    assert trading_state(console.client, "demo-1") == "active"
    with httpx.Client(base_url=console.url, timeout=10) as http:
        ops = {"Authorization": f"Bearer {ADMIN_SECRET}"}
        history = http.get("/config/history", headers=ops, params={"all": "true"}).json()
    assert [(c["scope"], c["actor"], c["change"], c["note"]) for c in history[:3]] == [
        ("demo-1", "source:ops", {"set": {"trading_state": "active"}}, "console: active"),
        (
            "demo-2",
            "source:ops",
            {"set": {"trading_state": "halted"}},
            "console: halted (group eu)",
        ),
        (
            "demo-1",
            "source:ops",
            {"set": {"trading_state": "halted"}},
            "console: halted (group eu)",
        ),
    ]


def test_an_admin_halts_and_resumes_every_instance_each_recorded_under_its_source(
    console: Served, viewer: httpx.Client, admin: httpx.Client
) -> None:
    everyone = [f"demo-{n}" for n in range(1, 6)]
    halt_all = {"all": True, "state": "halted"}
    assert viewer.post("/console/api/trading_state", json=halt_all).status_code == 403
    assert {trading_state(console.client, i) for i in everyone} == {"active"}
    halted = admin.post("/console/api/trading_state", json=halt_all)
    assert halted.status_code == 200, halted.text
    assert [(o["instance"], o["published"], o["error"]) for o in halted.json()] == [
        (i, True, None) for i in everyone
    ]
    assert [trading_state(console.client, i) for i in everyone] == ["halted"] * 5
    with httpx.Client(base_url=console.url, timeout=10) as http:
        ops = {"Authorization": f"Bearer {ADMIN_SECRET}"}
        history = http.get("/config/history", headers=ops, params={"all": "true"}).json()
    assert sorted((c["scope"], c["actor"], c["change"], c["note"]) for c in history) == [
        (i, "source:ops", {"set": {"trading_state": "halted"}}, "console: halted (all instances)")
        for i in everyone
    ]
    versions = {o["instance"]: o["version"] for o in halted.json()}
    assert len(set(versions.values())) == 5  # each instance its own version

    resumed = admin.post("/console/api/trading_state", json={"all": True, "state": "active"})
    assert resumed.status_code == 200, resumed.text
    assert [trading_state(console.client, i) for i in everyone] == ["active"] * 5


def test_bad_targets_are_refused_naming_the_field(admin: httpx.Client) -> None:
    for body, field in (
        ({"group": "nobody", "state": "halted"}, "group"),
        ({"instance": "demo-9", "state": "halted"}, "instance"),
    ):
        refused = admin.post("/console/api/trading_state", json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"]["field"] == field
    for mixed in (
        {**HALT_EU, "instance": "demo-1"},
        {**HALT_EU, "all": True},
        {"all": False, "state": "halted"},
    ):
        both = admin.post("/console/api/trading_state", json=mixed)
        assert both.status_code == 422 and "exactly one" in both.json()["error"], both.text
    state = admin.post("/console/api/trading_state", json={"group": "eu", "state": "paused"})
    assert state.status_code == 422 and state.json()["field"] == "state"


def test_dead_letters_listed_to_viewers_retried_by_an_admin_and_recorded(
    console: Served, viewer: httpx.Client, admin: httpx.Client
) -> None:
    signal = orjson.dumps({"symbol": "EURUSD", "action": "open"})
    console.client.xadd(
        f"{PREFIX}dlq:rtss",
        {"d": signal, "stream": f"{PREFIX}rtss", "group": "router", "id": "1-0", "error": "boom"},
    )
    listed = viewer.get("/console/api/dlq").json()
    assert [(q["stream"], q["count"]) for q in listed] == [("rtss", 1)]
    letter = listed[0]["entries"][0]
    assert (letter["error"], letter["group"], letter["data"]) == ("boom", "router", signal.decode())

    done = admin.post("/console/api/dlq/retry", json={"stream": "rtss", "ids": [letter["id"]]})
    assert done.status_code == 200, done.text
    assert done.json()[0]["error"] is None
    assert console.signals() == [orjson.loads(signal)]
    assert console.client.xlen(f"{PREFIX}dlq:rtss") == 0
    recorded = console.security_events()[-1]
    assert (recorded["event"], recorded["actor"], recorded["retried"]) == (
        "console_action",
        "source:ops",
        [letter["id"]],
    )


def test_an_admin_purges_one_dead_letter_recorded_and_a_viewer_cannot(
    console: Served, viewer: httpx.Client, admin: httpx.Client
) -> None:
    ids = [
        text(console.client.xadd(f"{PREFIX}dlq:rtss", {"d": b"{}", "stream": f"{PREFIX}rtss"}))
        for _ in range(2)
    ]
    body = {"stream": "rtss", "ids": ids[:1]}
    assert viewer.post("/console/api/dlq/purge", json=body).status_code == 403
    everything = admin.post("/console/api/dlq/purge", json={"stream": "rtss"})
    assert everything.status_code == 422 and everything.json()["detail"]["field"] == "ids"
    done = admin.post("/console/api/dlq/purge", json=body)
    assert done.json() == {"stream": "rtss", "deleted": 1}
    assert [e["id"] for e in viewer.get("/console/api/dlq").json()[0]["entries"]] == ids[1:]
    recorded = console.security_events()[-1]
    assert (recorded["actor"], recorded["action"], recorded["ids"]) == (
        "source:ops",
        "dlq_purge",
        ids[:1],
    )


def test_a_body_over_the_limit_is_refused_before_it_is_read(
    console: Served, viewer: httpx.Client
) -> None:
    """Attack: a viewer posts a huge body at an action (read before the admin check)."""
    huge = b'{"group": "' + b"x" * 70_000 + b'", "state": "halted"}'
    refused = viewer.post(
        "/console/api/trading_state", content=huge, headers={"Content-Type": "application/json"}
    )
    assert refused.status_code == 413, refused.text
    assert refused.json()["field"] == "body"
    assert console.security_events()[-1]["kind"] == "size"
