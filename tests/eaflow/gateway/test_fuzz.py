"""Property-based fuzzing of the webhook over HTTP: no body and no header makes it answer 5xx."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eaflow.gateway.alerts.commands import KNOWN
from eaflow.gateway.alerts.draft import ALIASES, INFORMATIONAL
from eaflow.gateway.config import GatewayConfig
from tests.eaflow.gateway.served import BEARER, SECRET, UNCAPPED, Served, serving

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NAMES = sorted({a for aliases in ALIASES.values() for a in aliases} | INFORMATIONAL)
WORDS = [
    *KNOWN,
    "open",
    "long",
    "short",
    "market",
    "limit",
    "stop",
    "flat",
    "all",
    "pips",
    "price",
    "percent",
    "risk_money",
    "{{close}}",
    "demo-1",
    "EURUSD",
    "OANDA:EURUSD",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(WORDS),
    st.text(max_size=30),
    st.decimals(allow_nan=False).map(str),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
alerts = st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=12), values, max_size=10)
fields = st.one_of(
    st.sampled_from([*WORDS, "tradingview", f"secret={SECRET}"]),
    st.builds(
        lambda k, v: f"{k}={v}",
        st.sampled_from(NAMES),
        st.sampled_from(WORDS) | st.text(max_size=8),
    ),
    st.text(max_size=15),
)
lines = st.lists(fields, min_size=1, max_size=8).map(",".join)
headers = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "Content-Type",
                "X-Forwarded-For",
                "X-Eaflow-Signature",
                "User-Agent",
                "Content-Length",
                "Transfer-Encoding",
                "X-Other",
            ]
        ),
        st.one_of(
            st.sampled_from(
                [
                    "52.89.214.238",
                    "127.0.0.1",
                    "::1",
                    "1.2.3.4, 52.32.178.7",
                    "sha256=00",
                    "application/json",
                    "text/plain",
                    "chunked",
                    "-1",
                    "99999999999",
                    "0",
                ]
            ),
            st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
        ),
    ),
    max_size=4,
)


@pytest.fixture(scope="module")
def fuzzed(redis_server: Any) -> Iterator[tuple[Served, httpx.Client]]:
    config = GatewayConfig(port=0, trusted_proxies=("127.0.0.1",), **UNCAPPED)
    with (
        serving(redis_server.url, config) as served,
        httpx.Client(base_url=served.url, timeout=10, headers=BEARER) as http,
    ):
        served.add_source(name="tradingview", rate_limit=100_000)
        yield served, http


def post(http: httpx.Client, body: bytes, extra: dict[str, str] | None = None) -> int:
    response = http.post("/webhook/tradingview", content=body, headers=extra or {})
    assert response.status_code < 500, (response.status_code, response.text, body[:300])
    if response.status_code >= 400:
        assert set(response.json()) == {"error", "field", "reason"}
    return response.status_code


@FUZZ
@given(body=st.binary(max_size=300))
def test_any_bytes(fuzzed: tuple[Served, httpx.Client], body: bytes) -> None:
    post(fuzzed[1], body)


@FUZZ
@given(alert=alerts, with_secret=st.booleans(), as_array=st.booleans())
def test_json_alerts(
    fuzzed: tuple[Served, httpx.Client], alert: dict[str, Any], with_secret: bool, as_array: bool
) -> None:
    if with_secret:
        alert["secret"] = SECRET
    body: Any = [alert, alert] if as_array else alert
    post(fuzzed[1], json.dumps(body).encode())  # json: big ints and NaN too


@FUZZ
@given(text=st.lists(lines, min_size=1, max_size=3).map("\n".join), secret=st.booleans())
def test_command_lines(fuzzed: tuple[Served, httpx.Client], text: str, secret: bool) -> None:
    post(fuzzed[1], (text + (f",secret={SECRET}" if secret else "")).encode())


def raw_post(url: str, extra: list[tuple[str, str]], body: bytes) -> int:
    """Send the request byte for byte (no client tidies the headers); its status, 0 if none."""
    host, port = url.removeprefix("http://").split(":")
    head = "".join(f"{name}: {value}\r\n" for name, value in extra)
    if not any(name.lower() in ("content-length", "transfer-encoding") for name, _ in extra):
        head += f"Content-Length: {len(body)}\r\n"
    request = (
        f"POST /webhook/tradingview HTTP/1.1\r\nHost: {host}\r\n{head}Connection: close\r\n\r\n"
    ).encode() + body
    reply = b""
    with socket.create_connection((host, int(port)), timeout=1) as sock:
        sock.sendall(request)
        try:
            while chunk := sock.recv(65536):
                reply += chunk
        except TimeoutError:  # a Content-Length longer than the body: the server waits
            pass
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else 0


@FUZZ
@given(
    extra=headers,
    body=st.sampled_from(
        [
            b"",
            b"tradingview,buy,EURUSD,risk=0.1",
            orjson.dumps({"secret": SECRET, "action": "buy", "symbol": "EURUSD"}),
        ]
    ),
)
def test_headers(
    fuzzed: tuple[Served, httpx.Client], extra: list[tuple[str, str]], body: bytes
) -> None:
    status = raw_post(fuzzed[0].url, extra, body)
    framing = any(name in ("Content-Length", "Transfer-Encoding") for name, _ in extra)
    assert 200 <= status < 500 or (status == 0 and framing), (status, extra)


PATHS = [
    "/udf/config",
    "/udf/symbols",
    "/udf/search",
    "/udf/history",
    "/udf/time",
    "/api/instances",
    "/api/symbols",
    "/api/results",
    "/api/trades",
    "/api/markers",
    "/api/state/demo-1",
]
PARAMS = [
    "symbol",
    "resolution",
    "from",
    "to",
    "countback",
    "query",
    "type",
    "exchange",
    "limit",
    "instance",
]


@FUZZ
@given(
    path=st.sampled_from(PATHS),
    params=st.dictionaries(
        st.sampled_from(PARAMS),
        st.sampled_from(["EURUSD", "1S", "1D", "0", "-1", "1e9"]) | st.text(max_size=12),
        max_size=5,
    ),
)
def test_datafeed_and_chart_queries(
    fuzzed: tuple[Served, httpx.Client], path: str, params: dict[str, str]
) -> None:
    response = fuzzed[1].get(path, params=params)
    assert response.status_code < 500, (path, params, response.text)
