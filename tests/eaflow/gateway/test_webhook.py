"""The webhook against a running gateway: what it writes, and every refusal it makes —
each a 4xx with the reason and an event in the `security` stream."""

from __future__ import annotations

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
        "source",
        "source",
    )
    served.add_source(name="off", enabled=False)
    refused(
        served,
        http.post("/webhook/tradingview", json={**BUY, "source": "off"}),
        403,
        "source",
        "source",
    )


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


def test_signature_header_instead_of_the_secret(served: Served, http: httpx.Client) -> None:
    body = orjson.dumps({k: v for k, v in BUY.items() if k != "secret"})
    signed = {"X-Eaflow-Signature": signature_of(SECRET, body)}
    assert http.post("/webhook/tradingview", content=body, headers=signed).status_code == 200
    served.client.delete(f"{PREFIX}rtss")
    wrong = {"X-Eaflow-Signature": signature_of("another-secret-0123456789", body)}
    refused(
        served,
        http.post("/webhook/tradingview", content=body, headers=wrong),
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
