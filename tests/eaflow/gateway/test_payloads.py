"""Real alert bodies (tests/data/tradingview) get the answers docs/alerts.md lists for them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from eaflow.gateway.alerts.draft import ALIASES, normalise
from tests.eaflow.gateway.docs import payload_table
from tests.eaflow.gateway.served import SECRET, Served

DATA = Path(__file__).parents[2] / "data" / "tradingview" / "tv_webhook_payloads.jsonl"
PAYLOADS = {p["id"]: p for p in map(orjson.loads, DATA.read_bytes().splitlines()) if p}
TABLE = payload_table()
SECRET_NAMES = set(ALIASES["secret"])


def with_secret(value: Any) -> tuple[Any, bool]:
    """`value` with every secret-like field set to SECRET; whether one was found."""
    if isinstance(value, list):
        pairs = [with_secret(item) for item in value]
        return [p[0] for p in pairs], all(p[1] for p in pairs)
    if not isinstance(value, dict):
        return value, False
    found = False
    result = {}
    for key, item in value.items():
        if normalise(key) in SECRET_NAMES:
            result[key], found = SECRET, True
        else:
            result[key], inner = with_secret(item)
            found = found or inner
    return result, found


def body_of(payload: dict[str, Any]) -> bytes:
    """The body with the source's secret put in, as an alert's author would."""
    raw: str = payload["raw"]
    if not payload["is_valid_json"]:
        if payload["kind"] == "text_command":
            return f"{raw.strip()},secret={SECRET}".encode()
        if "\n" in raw.strip() and "=" in raw and not raw.lstrip().startswith("{"):
            return f"{raw.rstrip()}\nSECRET={SECRET}".encode()
        return raw.encode()
    parsed, found = with_secret(orjson.loads(raw))
    if not found:
        if isinstance(parsed, list):
            parsed = [{**item, "secret": SECRET} for item in parsed]
        else:
            parsed["secret"] = SECRET
    return orjson.dumps(parsed)


def test_every_payload_is_in_the_doc_table() -> None:
    assert set(TABLE) == set(PAYLOADS)


@pytest.mark.parametrize("payload_id", sorted(PAYLOADS))
def test_payload(payload_id: str, served: Served, http: httpx.Client) -> None:
    for name in ("60123456789", "LicenseID"):
        served.add_source(name=name)
    payload = PAYLOADS[payload_id]
    status, field = TABLE[payload_id]
    response = http.post(
        "/webhook/tradingview",
        content=body_of(payload),
        headers={"Content-Type": payload["tradingview_content_type"]},
    )
    assert response.status_code == status, response.text
    if status == 200:
        assert len(served.signals()) == len(response.json()["signal_ids"]) >= 1
    else:
        assert response.json()["field"] == field
        assert served.signals() == []
        assert served.security_events()[-1]["field"] == field
    assert SECRET not in response.text


@pytest.mark.parametrize("payload_id", sorted(PAYLOADS))
def test_payload_without_the_secret_is_never_accepted(
    payload_id: str, served: Served, http: httpx.Client
) -> None:
    payload = PAYLOADS[payload_id]
    response = http.post(
        "/webhook/tradingview",
        content=payload["raw"].encode(),
        headers={"Content-Type": payload["tradingview_content_type"]},
    )
    assert 400 <= response.status_code < 500
    assert served.signals() == []
    assert served.security_events()
