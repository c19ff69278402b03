"""`SignalSender`: a Faust app's signals enter `rtss` under their source's name, through the
webhook's checks (source, binding, validation, rate limit); a refusal sends nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
import redis

from eaflow.faust.signals import SignalRefused, SignalSender
from eaflow.gateway.sources import Source, SourceStore

SECRET = "s" * 24


@pytest.fixture
async def sender(redis_url: str) -> AsyncIterator[SignalSender]:
    sender = SignalSender(redis_url, source="strategy")
    store = SourceStore(sender.app.redis, "ea:")
    await store.put(Source(name="strategy", secret=SECRET, instances=("demo-1",), rate_limit=3))
    await store.put(Source(name="off", secret=SECRET, enabled=False))
    yield sender
    await sender.close()


def rtss(client: redis.Redis) -> list[dict[str, Any]]:
    entries: Any = client.xrange("ea:rtss")
    return [orjson.loads(fields[b"d"]) for _, fields in entries]


async def test_a_signal_goes_to_rtss_within_the_binding_and_under_the_source_name(
    sender: SignalSender, redis_client: redis.Redis
) -> None:
    signal_id = await sender.send(signal_id="ma-1", symbol="EURUSD", order_type="buy", volume="0.1")
    assert signal_id == "ma-1"
    [written] = rtss(redis_client)
    assert written["source"] == "strategy"
    assert written["instances"] == ["demo-1"]  # the session binding
    assert (written["symbol"], written["order_type"], written["volume"]) == ("EURUSD", "buy", "0.1")


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"symbol": "EURUSD", "order_type": "buy", "volume": "0.1", "instances": ["demo-2"]},
         "instances", "not bound to demo-2"),
        ({"symbol": "EURUSD", "volume": "0.1"}, "order_type", "required"),
        ({"symbol": "EURUSD", "order_type": "buy", "volume": "-1"}, "volume", "greater than 0"),
    ],
)  # fmt: skip
async def test_refusals_name_the_field_and_send_nothing(
    sender: SignalSender, redis_client: redis.Redis, fields: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(SignalRefused) as refused:
        await sender.send(**fields)
    assert refused.value.field == field
    assert rule in refused.value.rule
    assert rtss(redis_client) == []


async def test_an_unknown_or_disabled_source_is_refused(redis_url: str) -> None:
    for name, rule in (("nobody", "eaflow sources add nobody"), ("off", "disabled")):
        sender = SignalSender(redis_url, source=name)
        await SourceStore(sender.app.redis, "ea:").put(
            Source(name="off", secret=SECRET, enabled=False)
        )
        try:
            with pytest.raises(SignalRefused, match=rule):
                await sender.send(symbol="EURUSD", order_type="buy", volume="0.1")
        finally:
            await sender.close()


async def test_the_source_rate_limit_counts_these_signals(
    sender: SignalSender, redis_client: redis.Redis
) -> None:
    for n in range(3):
        await sender.send(signal_id=f"s{n}", symbol="EURUSD", order_type="buy", volume="0.1")
    with pytest.raises(SignalRefused, match="3 signals a minute"):
        await sender.send(symbol="EURUSD", order_type="buy", volume="0.1")
    assert len(rtss(redis_client)) == 3
