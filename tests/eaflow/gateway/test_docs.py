"""Every alert example in docs/alerts.md, posted to a running gateway, does what the doc says."""

from __future__ import annotations

import httpx
import pytest

from tests.eaflow.gateway.docs import Example, examples
from tests.eaflow.gateway.served import SECRET, Served

EXAMPLES = examples()


def test_the_doc_has_examples_of_both_formats_and_of_refusals() -> None:
    assert sum(e.json for e in EXAMPLES) >= 5
    assert sum(not e.json for e in EXAMPLES) >= 10
    assert {e.status for e in EXAMPLES} >= {200, 401, 422}
    assert all(e.signals for e in EXAMPLES if e.status == 200)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_example(example: Example, served: Served, http: httpx.Client) -> None:
    served.add_source(name="60123456789")
    content_type = "application/json" if example.json else "text/plain; charset=utf-8"
    body = example.body.replace("YOUR_SECRET", SECRET)
    response = http.post(
        "/webhook/tradingview", content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == example.status, response.text
    written = served.signals()
    if example.status != 200:
        assert response.json()["field"] == example.field
        assert written == []
        assert served.security_events()[-1]["status"] == example.status
        return
    assert response.json()["signal_ids"] == [s["signal_id"] for s in written]
    assert len(written) == len(example.signals)
    for actual, expected in zip(written, example.signals, strict=True):
        assert {k: actual.get(k) for k in expected} == expected
        assert "secret" not in actual
