"""rtss entries through the router: any JSON is routed or refused with the field and rule."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from brokers.sim.symbols import default_symbols
from model import InstanceSpec, Order, OrderStatus, Result, Signal, refusal_of
from model.tick import encode_tick
from model.topics import Topics
from processors.registry import InstanceRegistry
from processors.router.agent import Router
from streams import App, AppSettings, Event, Outbox
from streams.errors import Poison
from tests.fuzz.conftest import assert_refusal
from tests.fuzz.strategies import FUZZ, json_values, signal_like
from tests.stubs import EURUSD_TICK, XAUUSD_TICK

PREFIX = "fz:"
Run = Callable[[Awaitable[Any]], Any]


@pytest.fixture
def router(redis_url: str, run: Run) -> Iterator[Router]:
    """A router over two instances trading EURUSD and XAUUSD, with live quotes."""
    app = App(AppSettings(redis_url=redis_url, prefix=PREFIX, name="fuzz"))
    client = aioredis.Redis.from_url(redis_url)
    symbols = default_symbols()
    infos = [info for name in ("EURUSD", "XAUUSD") if (info := symbols.get(name))]

    async def setup() -> Router:
        registry = InstanceRegistry(client, PREFIX)
        await registry.put(
            InstanceSpec(instance_id="demo-1", login=1, groups=("demo",), magic=1),
            InstanceSpec(instance_id="demo-2", login=2, groups=("demo",), magic=2),
        )
        for instance in ("demo-1", "demo-2"):
            await registry.publish_symbols(instance, infos)
        for tick, symbol in ((EURUSD_TICK, "EURUSD"), (XAUUSD_TICK, "XAUUSD")):
            await client.xadd(f"{PREFIX}ticks:{symbol}", {"d": encode_tick(tick)})
        router = Router(Topics(app), registry, client)
        await router.refresh()
        return router

    async def close() -> None:
        await client.aclose()
        await app.redis.aclose()

    yield run(setup())
    run(close())


def route(router: Router, run: Run, value: Any) -> Outbox:
    """The router's handler on one rtss entry holding `value` as JSON, decoded as the runtime
    does; an undecodable entry (DecodeError) and Poison are refusals too."""
    out = Outbox()
    raw = json.dumps(value).encode()
    try:
        event = Event(
            router.topics.rtss.decode(raw), "1-0", f"{PREFIX}rtss", router.topics.rtss, raw
        )
        run(router.handle(event, out))
    except Poison as poison:
        assert_refusal(str(poison))
    return out


def check_outputs(out: Outbox) -> None:
    """Orders are valid orders; every rejection names its field and rule."""
    for command in out.commands:
        if command[0] != "XADD":
            continue
        key, data = str(command[1]), command[-1]
        assert isinstance(data, bytes)
        if key.startswith(f"{PREFIX}orders:"):
            Order.model_validate_json(data)
        elif key == f"{PREFIX}rtrs":
            result = Result.model_validate_json(data)
            if result.status is OrderStatus.REJECTED:
                assert result.field and result.error, result
                assert_refusal(result.error)
                assert result.error.startswith(f"{result.field}:"), result


@FUZZ
@given(body=signal_like)
def test_signal_shaped_entries(router: Router, run: Run, body: dict[str, Any]) -> None:
    check_outputs(route(router, run, body))


@FUZZ
@given(value=json_values)
def test_any_json_entry(router: Router, run: Run, value: Any) -> None:
    check_outputs(route(router, run, value))


@FUZZ
@given(
    body=st.fixed_dictionaries(
        {"symbol": st.sampled_from(["EURUSD", "XAUUSD", "NOPE"])},
        optional={
            "order_type": st.sampled_from(["buy", "sell", "buy_limit", "sell_stop", "fly"]),
            "volume": st.sampled_from(["0.01", "0.015", "100000", "0", "-1", 1e-9]),
            "price": st.floats(allow_nan=False, allow_infinity=False) | st.just("1.3"),
            "stop_loss": st.floats(min_value=0, max_value=1e6),
            "take_profit": st.floats(min_value=0, max_value=1e6),
            "stops_unit": st.sampled_from(["price", "points", "pips", "percent", "x"]),
            "sizing": st.sampled_from(["fixed", "risk_percent", "risk_money", "x"]),
            "risk": st.sampled_from(["1", "0.5", "200", "-1"]),
            "instances": st.lists(st.sampled_from(["demo-1", "demo-2", "ghost"]), max_size=3),
            "group": st.sampled_from(["demo", "none"]),
            "action": st.sampled_from(["open", "close", "close_all", "sltp", "modify", "x"]),
            "ticket": st.integers(-5, 2**70),
        },
    )
)
def test_nearly_valid_signals(router: Router, run: Run, body: dict[str, Any]) -> None:
    """Close to what traders send: every one is routed or refused, none crashes."""
    check_outputs(route(router, run, body))


@FUZZ
@given(body=signal_like)
def test_signal_validation_names_field_and_rule(body: dict[str, Any]) -> None:
    try:
        Signal.model_validate(body)
    except ValidationError as error:
        field, rule = refusal_of(error)
        named = {*Signal.model_fields, "body", *(repr(k) for k in body), *body}
        assert field.split(".")[0] in named or field in named, field
        assert rule


def test_the_harness_routes_a_valid_signal(router: Router, run: Run) -> None:
    body = {"symbol": "EURUSD", "order_type": "buy", "volume": "0.01", "instances": ["demo-1"]}
    [command] = route(router, run, body).commands
    assert command[:2] == ("XADD", f"{PREFIX}orders:demo-1")
