"""What reaches the read paths (chart page, `/api`, `/udf`, `/docs`): the gateway's
allowlist and the viewer token; and what any path takes as its `Host`."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from eaflow.gateway.config import GatewayConfig
from tests.eaflow.gateway.served import BEARER, PREFIX, SECRET, VIEWER, Served, serving

READ = [
    "/",
    "/docs",
    "/openapi.json",
    "/static/chart.js",
    "/api/instances",
    "/api/symbols",
    "/api/state/demo-1",
    "/api/results",
    "/api/trades",
    "/api/markers?symbol=EURUSD",
    "/api/live?symbol=EURUSD",
    "/udf/config",
    "/udf/time",
    "/udf/symbols?symbol=EURUSD",
    "/udf/history?symbol=EURUSD&resolution=1",
]
BUY = {"secret": SECRET, "action": "buy", "symbol": "EURUSD", "volume": 0.1}


@pytest.fixture
def bare(served: Served) -> Iterator[httpx.Client]:
    """A client without the viewer token."""
    with httpx.Client(base_url=served.url, timeout=10) as client:
        yield client


@pytest.mark.parametrize("path", READ)
def test_read_paths_need_the_viewer_token(served: Served, bare: httpx.Client, path: str) -> None:
    """Attack (#7): logins, broker URLs, balances and tickets read by anyone who can connect."""
    for headers in ({}, {"Authorization": "Bearer " + "w" * 29}, {"Authorization": SECRET}):
        response = bare.get(path, headers=headers)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["field"] == "token"
    event = served.security_events()[-1]
    assert (event["kind"], event["status"], event["path"]) == ("viewer", 401, path.split("?")[0])
    if path != "/api/live?symbol=EURUSD":  # a live stream stays open: read it elsewhere
        assert bare.get(path, headers=BEARER).status_code != 401


def test_the_printed_link_sets_a_cookie_that_opens_the_page(
    served: Served, bare: httpx.Client
) -> None:
    link = bare.get("/", params={"token": VIEWER, "symbol": "EURUSD"})
    assert link.status_code == 303
    assert link.headers["location"] == "/?symbol=EURUSD"  # the token leaves the address bar
    cookie = link.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and VIEWER not in cookie
    behind_tls = {"X-Forwarded-Proto": "https"}  # the proxy's word: the cookie needs TLS
    with httpx.Client(base_url=served.url) as proxied:
        tls = proxied.get("/", params={"token": VIEWER}, headers=behind_tls)
        assert "Secure" in tls.headers["set-cookie"] and "Secure" not in cookie
    page = bare.get("/", params={"symbol": "EURUSD"})  # httpx keeps the cookie, as a browser
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert bare.get("/api/instances").status_code == 200
    assert bare.get("/docs").status_code == 200
    with httpx.Client(base_url=served.url) as stranger:
        assert stranger.get("/", params={"token": "w" * 29}).status_code == 401
        assert stranger.get("/api/instances").status_code == 401


def test_the_webhook_and_health_need_no_viewer_token(served: Served, bare: httpx.Client) -> None:
    assert bare.post("/webhook/tradingview", json=BUY).status_code == 200
    assert bare.get("/healthz").json() == {"status": "ok"}


def test_read_paths_are_behind_the_allowlist(redis_url: str) -> None:
    """Attack (#7): the token alone from an address the gateway does not let in."""
    config = GatewayConfig(port=0, allow=("10.0.0.0/8",))
    with serving(redis_url, config) as served, httpx.Client(base_url=served.url) as http:
        for path in ("/", "/api/instances", "/udf/time", "/docs"):
            response = http.get(path, headers=BEARER)
            assert response.status_code == 403, (path, response.text)
            assert response.json()["field"] == "ip"
        assert served.security_events()[-1]["kind"] == "allowlist"
        assert http.get("/healthz").status_code == 200  # a probe learns nothing else


@pytest.mark.parametrize("path", ["/api/instances", "/webhook/tradingview", "/config"])
def test_a_host_name_the_gateway_does_not_answer_to_is_refused(served: Served, path: str) -> None:
    """Attack (#7): DNS rebinding — a page on attacker.example whose name now resolves to
    the gateway's address, read or posted to by the victim's browser."""
    port = served.url.rpartition(":")[2]
    with httpx.Client(base_url=served.url, headers=BEARER) as http:
        rebound = http.request(
            "GET" if path.startswith("/api") else "POST",
            path,
            json=BUY,
            headers={"Host": f"attacker.example:{port}"},
        )
        assert rebound.status_code == 400, rebound.text
        assert rebound.json()["field"] == "host"
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "[::1]", "192.0.2.1"):
            assert http.get("/api/instances", headers={"Host": host}).status_code == 200, host
    assert served.security_events()[-1]["kind"] == "host"
    assert served.signals() == []


def test_a_configured_server_name_is_answered(redis_url: str) -> None:
    config = GatewayConfig(port=0, server_names=("alerts.example.com",))
    with serving(redis_url, config) as served, httpx.Client(base_url=served.url) as http:
        answer = http.post("/webhook/tradingview", json=BUY, headers={"Host": "Alerts.Example.com"})
        assert answer.status_code == 200, answer.text
        assert served.client.xlen(f"{PREFIX}rtss") == 1


def test_static_files_cannot_be_left(served: Served, http: httpx.Client) -> None:
    for path in (
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
        "/static/%2e%2e%2f%2e%2e%2fREADME.md",
    ):
        response = http.get(path)
        assert response.status_code == 404, (path, response.text[:200])
        assert "create_app" not in response.text


def test_a_secret_in_the_query_string_or_a_header_is_not_read(
    served: Served, http: httpx.Client
) -> None:
    """Secrets travel in the body (or as a signature): URLs and headers end up in logs."""
    body = {k: v for k, v in BUY.items() if k != "secret"}
    for params, headers in (({"secret": SECRET}, {}), ({}, {"X-Secret": SECRET})):
        response = http.post("/webhook/tradingview", json=body, params=params, headers=headers)
        assert response.status_code == 401 and response.json()["field"] == "secret"
    assert served.signals() == []
