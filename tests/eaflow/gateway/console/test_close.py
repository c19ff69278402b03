"""Closing a position from the console: a close signal for that ticket on `rtss` under the
admin's source, recorded with its actor; viewers and unknown tickets refused."""

from __future__ import annotations

import httpx

from model import Signal
from tests.eaflow.gateway.served import Served


def test_an_admin_closes_a_position_with_a_close_signal(
    console: Served, admin: httpx.Client
) -> None:
    sent = admin.post("/console/api/close", json={"instance": "demo-2", "ticket": 1001})
    assert sent.status_code == 200, sent.text
    [signal] = [Signal.model_validate(s) for s in console.signals()]
    assert (signal.action, signal.ticket, signal.symbol, signal.instances, signal.source) == (
        "close",
        1001,
        "EURUSD",
        ("demo-2",),
        "ops",
    )
    assert signal.signal_id == sent.json()["signal_id"]
    recorded = console.security_events()[-1]
    assert (recorded["actor"], recorded["action"], recorded["signal_id"]) == (
        "source:ops",
        "close",
        signal.signal_id,
    )


def test_closing_is_refused_to_viewers_and_for_unknown_positions(
    console: Served, viewer: httpx.Client, admin: httpx.Client
) -> None:
    refused = viewer.post("/console/api/close", json={"instance": "demo-2", "ticket": 1001})
    assert refused.status_code == 403 and refused.json()["detail"]["field"] == "session"
    for body, field in (
        ({"instance": "demo-2", "ticket": 4242}, "ticket"),
        ({"instance": "demo-9", "ticket": 1001}, "instance"),
    ):
        answer = admin.post("/console/api/close", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"]["field"] == field
    assert console.signals() == []
