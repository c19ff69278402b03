"""Configuration, as admins change it over HTTP and as workers read it from Redis: any change
body is applied or refused with the field and rule, and any bytes in the mirrored keys are
refused by name (the kill switch failing closed) without stopping the router's refresh."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
import redis
import redis.asyncio as aioredis
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from model import InstanceSpec, TradingConfig, TradingState, new_id
from model.config import AlertSwitch
from model.topics import Topics
from processors.registry import UNREADABLE_SWITCH, InstanceRegistry
from processors.router.agent import Router
from streams import App, AppSettings
from tests.eaflow.gateway.served import PREFIX, Served, serving
from tests.fuzz.conftest import assert_refusal
from tests.fuzz.strategies import FUZZ, json_values, near
from tests.redis_server import RedisServer

Run = Callable[[Awaitable[Any]], Any]
ADMIN = {"Authorization": "Bearer admin-secret-0123456789abcdef"}
SPEC = InstanceSpec(instance_id="demo-1", login=5_000_001)

paths = st.sampled_from(list(TradingConfig.model_fields)) | st.sampled_from(
    ["symbols.XAUUSD.lot_size", "trailing_stop.distance", "trailing_stop.x", "a..b", "", "."]
)
changes = st.fixed_dictionaries(
    {},
    optional={
        "set": st.dictionaries(paths | st.text(max_size=10), json_values, max_size=4),
        "unset": st.lists(paths | st.text(max_size=10), max_size=3),
        "note": json_values,
        "actor": json_values,
    },
) | near(["set", "unset", "note", "actor"])


@pytest.fixture(scope="module")
def admin(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Served, httpx.Client]]:
    """The real gateway with its configuration API, an admin source and one instance."""
    db = tmp_path_factory.mktemp("config") / "eaflow.duckdb"
    with (
        serving(redis_server.url, config_db=db) as served,
        httpx.Client(base_url=served.url, timeout=30, headers=ADMIN) as http,
    ):
        served.client.flushall()
        served.add_source(name="ops", secret=ADMIN["Authorization"][7:], admin=True)
        served.client.hset(f"{PREFIX}instances", "demo-1", SPEC.model_dump_json())
        yield served, http


@FUZZ
@given(body=changes, scope=st.sampled_from(["", "/instances/demo-1", "/instances/ghost"]))
def test_any_change_over_http(
    admin: tuple[Served, httpx.Client], body: dict[str, Any], scope: str
) -> None:
    served, http = admin
    response = http.patch(f"/config{scope}", content=json.dumps(body, allow_nan=True))
    assert response.status_code in (200, 422), (response.status_code, response.text, body)
    detail = response.json().get("detail", response.json())
    if response.status_code == 422:
        assert detail["field"] is not None and detail.get("rule", detail.get("error")), detail
    published: Any = served.client.hgetall(f"{PREFIX}instances")
    for raw in published.values():  # whatever was applied left a valid configuration
        InstanceSpec.model_validate_json(raw)


@pytest.fixture
def router(redis_url: str, run: Run) -> Iterator[Router]:
    app = App(AppSettings(redis_url=redis_url, prefix=PREFIX, name="fuzz"))
    client = aioredis.Redis.from_url(redis_url)
    registry = InstanceRegistry(client, PREFIX)
    run(registry.put(SPEC))
    yield Router(Topics(app), registry, client)
    run(client.aclose())
    run(app.redis.aclose())


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()  # integers of any size, as a redis-cli user may write


raw_values = st.one_of(
    st.binary(max_size=40),
    json_values.map(_json),
    near(list(InstanceSpec.model_fields)).map(_json),
    st.builds(lambda cut: SPEC.model_dump_json().encode()[:cut], st.integers(0, 80)),
    st.sampled_from(["demo-1", "demo-2", "x y"]).map(
        lambda i: SPEC.model_copy(update={"instance_id": i}).model_dump_json().encode()
    ),
)
snapshots = raw_values | near(["balance", "equity", "instance"]).map(_json)
STATES = [s.value for s in TradingState]
SWITCH = {"state": "halted", "source": "tv", "signal_id": "s", "order_id": "tv/o", "at": 1.0}
switches = st.one_of(
    near(list(SWITCH)).map(_json),
    st.fixed_dictionaries({k: st.just(v) | json_values for k, v in SWITCH.items()}).map(_json),
)


@FUZZ
@given(
    key=st.binary(min_size=1, max_size=12) | st.sampled_from([b"demo-1", b"demo-2"]),
    spec=raw_values,
    state=st.none() | st.binary(max_size=12) | st.sampled_from(STATES).map(str.encode),
    snapshot=st.none() | snapshots,
    switch=st.none() | raw_values | switches,
)
def test_any_bytes_in_the_mirrored_configuration(
    router: Router,
    redis_client: redis.Redis,
    run: Run,
    key: bytes,
    spec: bytes,
    state: bytes | None,
    snapshot: bytes | None,
    switch: bytes | None,
) -> None:
    """What an operator's redis-cli (or a bug) could leave in the keys workers read: the
    router's refresh (a 500 ms timer) goes on with what is valid and names what is not."""
    redis_client.hset(f"{PREFIX}instances", key, spec)
    redis_client.set(f"{PREFIX}instances:rev", new_id())
    values = (("trading_state", state), ("state:demo-1", snapshot), ("switch:demo-1", switch))
    for name, value in values:
        redis_client.delete(f"{PREFIX}{name}")
        if value is not None:
            redis_client.set(f"{PREFIX}{name}", value)

    run(router.refresh())

    registry = router.registry
    instance = key.decode(errors="backslashreplace")
    assert all(found.instance_id == i for i, found in router.instances.items())
    assert "demo-1" in router.instances  # a bad write to its key keeps the last valid spec
    try:
        parsed: InstanceSpec | None = InstanceSpec.model_validate_json(spec)
    except ValidationError:
        parsed = None
    if parsed is not None and parsed.instance_id == instance:
        assert router.instances[instance] == parsed and instance not in registry.errors
    else:
        assert_refusal(registry.errors[instance])  # logged, and the last valid spec stays
    if state is None or state.decode(errors="replace") in STATES:
        assert router.global_state.value == (state or b"active").decode()
    else:
        assert router.global_state is TradingState.HALTED  # an unreadable kill switch
    try:  # an eaoff/eaon alert's switch: one that does not validate halts (fail closed)
        expected: AlertSwitch | None = AlertSwitch.model_validate_json(switch or b"")
    except ValidationError:
        expected = UNREADABLE_SWITCH
    assert router.switches.get("demo-1") == (None if switch is None else expected)
    balance = _number(snapshot, "balance")
    assert router.balances.get("demo-1") == (None if balance is None else Decimal(repr(balance)))


def _number(raw: bytes | None, field: str) -> int | float | None:
    """`field` of a JSON object when it is a number, as the router reads balances."""
    try:
        value = orjson.loads(raw or b"")[field]
    except (orjson.JSONDecodeError, KeyError, TypeError, IndexError):  # orjson: 64-bit ints
        return None
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None
