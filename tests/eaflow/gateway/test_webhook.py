"""The webhook against a running gateway: what it writes, and every refusal it makes —
each a 4xx with the reason and an event in the `security` stream."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest

from eaflow.gateway.auth import signature_of
from eaflow.gateway.config import GatewayConfig
from model import InstanceSpec
from tests.eaflow.gateway.served import PREFIX, SECRET, Served, serving

BUY = {"secret": SECRET, "action": "buy", "symbol": "EURUSD", "volume": 0.1}


def refused(served: Served, response: httpx.Response, status: int, kind: str, field: str) -> None:
    """The answer and the last security event both say why, and neither holds the secret."""
    assert response.status_code == status, response.text
    answer = response.json()
    assert (answer["reason"], answer["field"]) == (kind, field)
    assert answer["error"].startswith(f"{field}: ")
    event = served.security_events()[-1]
    assert (event["event"], event["kind"], event["status"], event["field"]) == (
        "webhook_refused",
        kind,
        status,
        field,
    )
    assert event["path"] == "/webhook/tradingview"
    assert SECRET not in response.text
    assert SECRET not in orjson.dumps(event).decode()
    assert served.signals() == []


def put_instances(served: Served, *specs: InstanceSpec) -> None:
    for spec in specs:
        served.client.hset(f"{PREFIX}instances", spec.instance_id, spec.model_dump_json())


def test_a_valid_alert_is_written_to_rtss_and_answered_with_its_id(
    served: Served, http: httpx.Client
) -> None:
    response = http.post("/webhook/tradingview", json=BUY)
    assert response.status_code == 200
    [signal] = served.signals()
    assert response.json() == {
        "signal_id": signal["signal_id"],
        "signal_ids": [signal["signal_id"]],
        "ignored": [],
    }
    assert signal["source"] == "tradingview"
    assert "secret" not in signal
    assert served.security_events() == []


def test_json_sent_as_text_is_read_as_json(served: Served, http: httpx.Client) -> None:
    response = http.post(
        "/webhook/tradingview", content=orjson.dumps(BUY), headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 200
    assert served.signals()[0]["order_type"] == "buy"


def test_missing_secret(served: Served, http: httpx.Client) -> None:
    body = {k: v for k, v in BUY.items() if k != "secret"}
    refused(served, http.post("/webhook/tradingview", json=body), 401, "secret", "secret")


def test_wrong_secret(served: Served, http: httpx.Client) -> None:
    response = http.post("/webhook/tradingview", json={**BUY, "secret": "x" * 28})
    refused(served, response, 401, "secret", "secret")


def test_the_secret_is_never_echoed(served: Served, http: httpx.Client) -> None:
    response = http.post("/webhook/tradingview", json={**BUY, "volume": SECRET})
    refused(served, response, 422, "invalid", "volume")
    assert "***" in response.json()["error"]


def test_unknown_and_disabled_sources(served: Served, http: httpx.Client) -> None:
    refused(
        served,
        http.post("/webhook/tradingview", json={**BUY, "source": "nobody"}),
        401,
        "secret",
        "secret",
    )
    assert served.security_events()[-1]["error"] == "unknown source 'nobody'"
    served.add_source(name="off", enabled=False)
    refused(
        served,
        http.post("/webhook/tradingview", json={**BUY, "source": "off"}),
        403,
        "source",
        "source",
    )


def test_an_unknown_source_is_answered_like_a_wrong_secret(
    served: Served, http: httpx.Client
) -> None:
    """Attack (#16): telling the sources that exist from the answers."""
    served.add_source(name="desk")
    served.add_source(name="off", enabled=False)  # says so only to its own secret
    wrong = {**BUY, "secret": "w" * 28}
    shapes = {}
    for name in ("desk", "ghost", "off"):
        answer = http.post("/webhook/tradingview", json={**wrong, "source": name})
        shapes[name] = (answer.status_code, answer.text.replace(name, "NAME"))
    assert shapes["desk"] == shapes["ghost"] == shapes["off"]
    assert shapes["ghost"][0] == 401
    assert [e["error"] for e in served.security_events()][1] == "unknown source 'ghost'"


def test_a_sources_allowlist_is_checked_before_its_secret(
    served: Served, http: httpx.Client
) -> None:
    """Attack (#16): a 403 from the source's allowlist confirmed a right secret."""
    served.add_source(name="tradingview", allow=("10.0.0.0/8",))
    right = http.post("/webhook/tradingview", json=BUY)
    wrong = http.post("/webhook/tradingview", json={**BUY, "secret": "w" * 28})
    assert (right.status_code, right.json()) == (wrong.status_code, wrong.json())
    refused(served, wrong, 403, "allowlist", "ip")


def test_a_malformed_body(served: Served, http: httpx.Client) -> None:
    response = http.post("/webhook/tradingview", content=b'{"secret": "x", "volume": {{close}}}')
    refused(served, response, 400, "malformed", "body")


def test_a_batch_is_all_or_nothing(served: Served, http: httpx.Client) -> None:
    body = [BUY, {**BUY, "volume": -1}]
    refused(served, http.post("/webhook/tradingview", json=body), 422, "invalid", "volume")


def test_size_limit_by_content_length(served: Served, http: httpx.Client) -> None:
    body = orjson.dumps({**BUY, "comment": "x" * 20_000})
    refused(served, http.post("/webhook/tradingview", content=body), 413, "size", "body")


def test_size_limit_of_a_chunked_body(served: Served, http: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 1000

    response = http.post("/webhook/tradingview", content=chunks())
    refused(served, response, 413, "size", "body")


def test_rate_limit_per_source(served: Served, http: httpx.Client) -> None:
    served.add_source(name="tradingview", rate_limit=3)
    for _ in range(3):
        assert http.post("/webhook/tradingview", json=BUY).status_code == 200
    served.client.delete(f"{PREFIX}rtss")
    response = http.post("/webhook/tradingview", json=BUY)
    refused(served, response, 429, "rate_limit", "source")
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def signed(body: bytes, secret: str = SECRET, at: float | None = None) -> dict[str, str]:
    return {
        "X-Eaflow-Signature": signature_of(secret, body, int(time.time() if at is None else at))
    }


def test_signature_header_instead_of_the_secret(served: Served, http: httpx.Client) -> None:
    body = orjson.dumps({k: v for k, v in BUY.items() if k != "secret"})
    assert http.post("/webhook/tradingview", content=body, headers=signed(body)).status_code == 200
    served.client.delete(f"{PREFIX}rtss")
    wrong = signed(body, "another-secret-0123456789")
    refused(
        served,
        http.post("/webhook/tradingview", content=body, headers=wrong),
        401,
        "signature",
        "X-Eaflow-Signature",
    )


def test_a_signed_request_is_accepted_once(served: Served, http: httpx.Client) -> None:
    """Attack (#10): the same signed body posted again trades again."""
    body = orjson.dumps({k: v for k, v in BUY.items() if k != "secret"})
    headers = signed(body)
    answers = [
        http.post("/webhook/tradingview", content=body, headers=headers).status_code
        for _ in range(3)
    ]
    assert answers == [200, 401, 401]
    assert len(served.signals()) == 1
    event = served.security_events()[-1]
    assert (event["kind"], event["field"]) == ("signature", "X-Eaflow-Signature")
    assert "accepted before" in event["error"]


def test_a_signature_needs_a_timestamp_within_the_window(
    served: Served, http: httpx.Client
) -> None:
    """Attack (#10): an old signed request kept and replayed after the window."""
    body = orjson.dumps({k: v for k, v in BUY.items() if k != "secret"})
    stale = signed(body, at=time.time() - 3600)
    untimed = {"X-Eaflow-Signature": stale["X-Eaflow-Signature"].partition(",")[2]}
    for headers in (stale, untimed):
        refused(
            served,
            http.post("/webhook/tradingview", content=body, headers=headers),
            401,
            "signature",
            "X-Eaflow-Signature",
        )


def test_a_source_can_require_the_signature(served: Served, http: httpx.Client) -> None:
    served.add_source(name="tradingview", require_signature=True)
    refused(
        served, http.post("/webhook/tradingview", json=BUY), 401, "signature", "X-Eaflow-Signature"
    )


def test_a_source_allowlist_narrows_the_gateways(served: Served, http: httpx.Client) -> None:
    served.add_source(name="tradingview", allow=("10.0.0.0/8",))
    refused(served, http.post("/webhook/tradingview", json=BUY), 403, "allowlist", "ip")


def test_session_binding(served: Served, http: httpx.Client) -> None:
    put_instances(
        served,
        *(
            InstanceSpec(instance_id=f"demo-{n}", login=n, groups=groups)
            for n, groups in ((1, ("a", "ab")), (2, ("ab",)))
        ),
    )
    served.add_source(name="tradingview", instances=("demo-1",))
    refused(
        served,
        http.post("/webhook/tradingview", json={**BUY, "instances": ["demo-2"]}),
        403,
        "binding",
        "instances",
    )
    refused(
        served,
        http.post("/webhook/tradingview", json={**BUY, "group": "ab"}),
        403,
        "binding",
        "group",
    )
    for extra in ({}, {"group": "a"}, {"instance": "demo-1"}):
        assert http.post("/webhook/tradingview", json={**BUY, **extra}).status_code == 200
    assert [(s["instances"], s.get("group")) for s in served.signals()] == [(["demo-1"], None)] * 3


@pytest.fixture
def behind_proxy(redis_url: str) -> Iterator[tuple[Served, httpx.Client]]:
    config = GatewayConfig(port=0, allow=("tradingview",), trusted_proxies=("127.0.0.1",))
    with serving(redis_url, config) as served, httpx.Client(base_url=served.url) as http:
        yield served, http


def test_allowlist_with_a_trusted_proxy(behind_proxy: tuple[Served, httpx.Client]) -> None:
    served, http = behind_proxy
    tradingview = {"X-Forwarded-For": "52.89.214.238"}
    assert http.post("/webhook/tradingview", json=BUY, headers=tradingview).status_code == 200
    served.client.delete(f"{PREFIX}rtss")
    refused(served, http.post("/webhook/tradingview", json=BUY), 403, "allowlist", "ip")
    spoofed = {"X-Forwarded-For": "52.89.214.238, 198.51.100.7"}
    refused(
        served, http.post("/webhook/tradingview", json=BUY, headers=spoofed), 403, "allowlist", "ip"
    )
    assert served.security_events()[-1]["ip"] == "198.51.100.7"


def test_forwarded_addresses_are_ignored_without_a_trusted_proxy(redis_url: str) -> None:
    config = GatewayConfig(port=0, allow=("tradingview",))
    with serving(redis_url, config) as served, httpx.Client(base_url=served.url) as http:
        response = http.post(
            "/webhook/tradingview", json=BUY, headers={"X-Forwarded-For": "52.89.214.238"}
        )
        refused(served, response, 403, "allowlist", "ip")
        assert served.security_events()[-1]["ip"] == "127.0.0.1"


def test_the_forwarded_address_is_read_from_every_header_line(
    behind_proxy: tuple[Served, httpx.Client],
) -> None:
    """Attack (#4): a client's own X-Forwarded-For line before the one its proxy appends."""
    served, http = behind_proxy
    lines = [("X-Forwarded-For", "52.89.214.238"), ("X-Forwarded-For", "198.51.100.7")]
    refused(
        served, http.post("/webhook/tradingview", json=BUY, headers=lines), 403, "allowlist", "ip"
    )
    assert served.security_events()[-1]["ip"] == "198.51.100.7"


@pytest.mark.parametrize(
    "body",
    [
        f"tradingview,buy,EURUSD,risk=0.01,{SECRET}",  # the secret as a bare field
        f"tradingview,buy,EURUSD,risk=0.01,secret:{SECRET}",  # a colon for the equals sign
        f"{SECRET},buy,EURUSD,risk=0.01",  # the secret where the source goes
        orjson.dumps({**BUY, "volume": "x" + SECRET}).decode(),  # in a value
    ],
)
def test_a_secret_out_of_place_is_never_echoed(
    served: Served,
    http: httpx.Client,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    body: str,
) -> None:
    """Attack (#3): the secret comes back in the answer, the log or the security stream.

    The log line is read wherever structlog sends it: printed (its default), or through the
    standard library once a command run in this process configured it (`eaflow.logging`)."""
    response = http.post("/webhook/tradingview", content=body)
    assert 400 <= response.status_code < 500, response.text
    assert served.security_events()
    log = capsys.readouterr().out + caplog.text
    assert "webhook_refused" in log
    for text in (response.text, orjson.dumps(served.security_events()).decode(), log):
        assert SECRET not in text and SECRET[:16] not in text and SECRET[-16:] not in text


def test_a_long_secret_cut_short_in_a_refusal_is_not_echoed(
    served: Served, http: httpx.Client
) -> None:
    """Attack (#3): a refusal quotes a value cut to 40 characters; blanking out the whole
    secret misses it, and the first 37 characters of the secret would be shown."""
    long = "long-secret-" + "0123456789" * 5
    served.add_source(name="desk", secret=long)
    body = {"source": "desk", "secret": long, "action": "buy", "symbol": "EURUSD", "volume": long}
    response = http.post("/webhook/tradingview", json=body)
    assert response.status_code == 422 and response.json()["field"] == "volume"
    for text in (response.text, orjson.dumps(served.security_events()).decode()):
        assert long[:16] not in text and long[8:24] not in text


@pytest.mark.parametrize("volume", ["١", "１", "0.٥", "1e٣"])
def test_digits_of_other_scripts_are_no_number(
    served: Served, http: httpx.Client, volume: str
) -> None:
    """Attack (#11): Arabic-Indic and full-width digits read as a size."""
    refused(
        served,
        http.post("/webhook/tradingview", json={**BUY, "volume": volume}),
        422,
        "invalid",
        "volume",
    )
    text = f"tradingview,buy,EURUSD,risk={volume},secret={SECRET}"
    refused(served, http.post("/webhook/tradingview", content=text), 422, "invalid", "risk")


ORDER = '"action": "buy", "symbol": "EURUSD"'


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (f'{{"secret": "S", {ORDER}, "volume": 0.01, "volume": 50}}', "volume"),
        (f'{{"secret": "wrong-secret-0123456789abc", "secret": "S", {ORDER}}}', "secret"),
        ('{"secret": "S", "data": {"side": "buy", "side": "sell"}, "symbol": "EURUSD"}', "side"),
    ],
)
def test_a_key_given_twice_is_refused(
    served: Served, http: httpx.Client, body: str, field: str
) -> None:
    """Attack (#12): a repeated key, of which JSON keeps the last."""
    response = http.post("/webhook/tradingview", content=body.replace('"S"', f'"{SECRET}"'))
    refused(served, response, 422, "invalid", field)
    assert "twice" in response.json()["error"]


def test_the_rate_limit_counts_signals(served: Served, http: httpx.Client) -> None:
    """Attack (#13): many signals in the body of one request, under a limit of requests."""
    served.add_source(name="tradingview", rate_limit=3)
    lines = "\n".join([f"tradingview,buy,EURUSD,risk=0.01,secret={SECRET}"] * 4)
    response = http.post("/webhook/tradingview", content=lines)
    refused(served, response, 429, "rate_limit", "source")
    assert "holds 4" in response.json()["error"]


def test_refusals_of_one_address_are_capped(redis_url: str) -> None:
    """Attack (#13): a flood of requests without the secret, each a log line and an entry
    of the capped security stream (pushing its history out)."""
    config = GatewayConfig(port=0, refusals_per_minute=5)
    with serving(redis_url, config) as served, httpx.Client(base_url=served.url) as http:
        wrong = {**BUY, "secret": "w" * 28}
        answers = [http.post("/webhook/tradingview", json=wrong) for _ in range(30)]
        assert [a.status_code for a in answers[:5]] == [401] * 5
        assert any(a.status_code == 429 and "Retry-After" in a.headers for a in answers)
        recorded = served.security_events()
        # 5 refusals and one entry saying the rest go unrecorded (twice if a minute turned)
        assert len(recorded) <= 12, len(recorded)
        assert any("not recorded" in e["error"] for e in recorded)
        assert http.post("/webhook/tradingview", json=BUY).status_code == 200  # the secret: in


def raw_request(url: str, head: str, body: bytes = b"") -> bytes:
    """Send bytes as they are (no client tidies them); the answer until the server closes."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(head.encode() + body)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def test_content_length_beside_chunked_is_refused(served: Served) -> None:
    """Attack (#18): a body framed two ways (request smuggling through a proxy)."""
    body = orjson.dumps(BUY)
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    reply = raw_request(
        served.url,
        "POST /webhook/tradingview HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Length: {len(body)}\r\nTransfer-Encoding: chunked\r\n\r\n",
        chunked,
    )
    assert reply.startswith(b"HTTP/1.1 400 "), reply[:200]
    assert b'"field":"transfer-encoding"' in reply
    assert served.signals() == []
    assert served.security_events()[-1]["field"] == "transfer-encoding"


def test_a_body_that_never_ends_is_given_up(redis_url: str) -> None:
    """Attack (#18): a client announces a body and trickles it (or never sends it),
    holding a connection and a task for ever."""
    config = GatewayConfig(port=0, body_timeout=0.5)
    with serving(redis_url, config) as served:
        reply = raw_request(
            served.url,
            "POST /webhook/tradingview HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n",
            b'{"secret": ',
        )
        assert reply.startswith(b"HTTP/1.1 408 "), reply[:200]
        assert served.security_events()[-1]["kind"] == "timeout"
