"""Router's in-memory view: instances, symbols and balances, refreshed without waste."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from decimal import Decimal

import orjson
import pytest
import redis.asyncio as aioredis
from structlog.testing import capture_logs

from brokers.mt5.records import SymbolInfo
from brokers.mt5.requests import order_comment
from model import InstanceSpec, Order, OrderStatus, Result, TrailingStop
from model.config import AlertSwitch
from model.tick import encode_tick
from model.topics import Topics
from processors.registry import InstanceRegistry
from processors.router.agent import Router
from streams import App, AppSettings, Event, Outbox
from streams.commit import Committer, Unit
from tests.stubs import EURUSD_TICK

PREFIX = "ea:"


@pytest.fixture
async def router(redis_url: str) -> AsyncIterator[Router]:
    app = App(AppSettings(redis_url=redis_url, prefix=PREFIX, name="test"))
    client = aioredis.Redis.from_url(redis_url)
    registry = InstanceRegistry(client, PREFIX)
    await registry.put(
        InstanceSpec(instance_id="a", broker="sim://", login=1),
        InstanceSpec(instance_id="b", broker="sim://", login=2),
    )
    yield Router(Topics(app), registry, client)
    await client.aclose()
    await app.redis.aclose()


async def test_symbols_are_read_again_only_after_a_new_publication(
    router: Router, eurusd: SymbolInfo
) -> None:
    registry = router.registry
    await registry.publish_symbols("a", [eurusd])
    await router.refresh()
    assert router.symbols == {"a": {"EURUSD": eurusd}, "b": {}}
    wider = eurusd._replace(volume_max=1.0)
    key = f"{PREFIX}symbols:a"
    await router.redis.hset(key, "EURUSD", orjson.dumps(wider._asdict()))  # not published
    await router.refresh()
    assert router.symbols["a"]["EURUSD"] == eurusd  # nothing re-read on every refresh
    await registry.publish_symbols("b", [wider])
    await router.refresh()
    assert router.symbols == {"a": {"EURUSD": wider}, "b": {"EURUSD": wider}}


async def test_a_new_instance_gets_its_symbols_without_a_publication(
    router: Router, eurusd: SymbolInfo
) -> None:
    await router.registry.publish_symbols("a", [eurusd])
    await router.refresh()
    await router.redis.hset(f"{PREFIX}symbols:c", "EURUSD", orjson.dumps(eurusd._asdict()))
    await router.registry.put(InstanceSpec(instance_id="c", broker="sim://", login=3))
    await router.refresh()
    assert router.symbols["c"] == {"EURUSD": eurusd}


async def routed(router: Router, signal: Mapping[str, object]) -> list[Order | Result]:
    """The orders and results the router's handler writes for one rtss entry."""
    raw = orjson.dumps(signal)
    topic = router.topics.rtss
    out = Outbox()
    await router.handle(Event(topic.decode(raw), "1-0", f"{PREFIX}rtss", topic, raw), out)
    written: list[Order | Result] = []
    for command in out.commands:
        if command[0] == "ONCE":  # the guard of a result (tested through the commit)
            continue
        assert command[0] == "XADD"
        data = command[-1]
        assert isinstance(data, bytes)
        model = Result if str(command[1]) == f"{PREFIX}rtrs" else Order
        written.append(model.model_validate_json(data))
    return written


async def test_symbols_published_since_the_last_refresh_are_read_before_a_refusal(
    router: Router, eurusd: SymbolInfo
) -> None:
    """An executor that starts publishes its symbols up to 500 ms before the router's timer
    reads them; a signal in between is routed, not refused for an unknown symbol."""
    await router.redis.xadd(f"{PREFIX}ticks:EURUSD", {"d": encode_tick(EURUSD_TICK)})
    await router.refresh()  # nothing published yet
    await router.registry.publish_symbols("a", [eurusd])
    signal = {"order_id": "early", "symbol": "EURUSD", "order_type": "buy", "volume": "0.01"}
    [order] = await routed(router, signal)
    assert isinstance(order, Order) and order.instance == "a"
    [refused] = await routed(router, {**signal, "order_id": "nope", "symbol": "GBPUSD"})
    assert isinstance(refused, Result) and refused.status is OrderStatus.REJECTED
    assert refused.field == "instances", refused.error  # no publication: refused as before


async def committed(router: Router, signal: Mapping[str, object]) -> list[Result]:
    """Handle one rtss entry and commit what it wrote, as the agent does; its results."""
    raw = orjson.dumps(signal)
    topic = router.topics.rtss
    out = Outbox()
    await router.handle(Event(topic.decode(raw), "1-0", f"{PREFIX}rtss", topic, raw), out)
    assert await Committer(router.redis, "router").commit([Unit("", "", out.commands)]) == {}
    return [
        Result.model_validate_json(c[-1])  # type: ignore[arg-type]
        for c in out.commands
        if c[0] == "XADD" and str(c[1]) == f"{PREFIX}rtrs"
    ]


async def test_eaoff_and_eaon_switch_their_own_key_never_the_operators_spec(
    router: Router, eurusd: SymbolInfo
) -> None:
    """The router writes `switch:{instance}` (which its role may), not the registry (which it
    may not, and which holds the operator's trading_state); a second router reads it."""
    await router.registry.publish_symbols("a", [eurusd])
    await router.redis.xadd(f"{PREFIX}ticks:EURUSD", {"d": encode_tick(EURUSD_TICK)})
    specs = await router.redis.hgetall(f"{PREFIX}instances")
    [off] = await committed(router, {"action": "halt", "instances": ["a"], "source": "tv"})
    assert (off.status, off.order_id) == (OrderStatus.MODIFIED, f"tv/{off.signal_id}")
    assert await router.redis.hgetall(f"{PREFIX}instances") == specs
    switch = AlertSwitch.model_validate_json(await router.redis.get(f"{PREFIX}switch:a") or b"")
    assert (switch.state, switch.source, switch.order_id) == ("halted", "tv", off.order_id)

    other = Router(router.topics, InstanceRegistry(router.redis, PREFIX), router.redis)
    await other.refresh()
    buy: dict[str, object] = {"symbol": "EURUSD", "order_type": "buy", "volume": "0.01"}
    buy["source"] = "tv"
    [refused] = await routed(other, {**buy, "instances": ["a"]})
    assert isinstance(refused, Result) and refused.field == "trading_state"
    [none] = await routed(other, buy)  # a broadcast passes the switched-off instance by
    assert isinstance(none, Result) and (none.instance, none.field) == ("*", "instances")
    await committed(other, {"action": "resume", "instances": ["a"], "source": "tv"})
    await router.refresh()
    [filled] = await routed(router, {**buy, "instances": ["a"]})
    assert isinstance(filled, Order) and filled.order_id == f"tv/{filled.signal_id}"


async def test_an_unreadable_alert_switch_halts_its_instance(
    router: Router, eurusd: SymbolInfo
) -> None:
    await router.registry.publish_symbols("a", [eurusd])
    await router.redis.xadd(f"{PREFIX}ticks:EURUSD", {"d": encode_tick(EURUSD_TICK)})
    await router.redis.set(f"{PREFIX}switch:a", b'{"state": "off"}')
    await router.refresh()
    buy: dict[str, object] = {"symbol": "EURUSD", "order_type": "buy", "volume": "0.01"}
    buy["instances"] = ["a"]
    [refused] = await routed(router, buy)
    assert isinstance(refused, Result) and refused.field == "trading_state"
    assert "unreadable" in str(refused.error)


async def test_a_rejected_order_id_of_one_source_leaves_anothers_alone(
    router: Router, eurusd: SymbolInfo
) -> None:
    """Issue 18, attack 14, at the records: each source's id has its own once-only record."""
    await router.registry.publish_symbols("a", [eurusd])
    await router.redis.xadd(f"{PREFIX}ticks:EURUSD", {"d": encode_tick(EURUSD_TICK)})
    buy: dict[str, object] = {"symbol": "EURUSD", "order_type": "buy", "order_id": "dup"}
    buy["instances"] = ["a"]
    [rejected] = await committed(router, {**buy, "volume": "0.015", "source": "alpha"})
    assert (rejected.order_id, rejected.field) == ("alpha/dup", "volume")
    [order] = await routed(router, {**buy, "volume": "0.01", "source": "beta"})
    assert isinstance(order, Order) and order.order_id == "beta/dup"
    records = await router.redis.hgetall(f"{PREFIX}orec:a")
    assert records == {b"alpha/dup": b"rejected"}  # beta/dup has none: the executor trades it
    [again] = await committed(router, {**buy, "volume": "0.015", "source": "alpha"})
    assert again.order_id == "alpha/dup"  # the commit's once-guard keeps its second result out


async def test_an_alerts_trailing_is_left_for_the_ticks_agent_under_the_orders_comment(
    router: Router, eurusd: SymbolInfo
) -> None:
    """Committed with the order: the ticks agent finds it by the comment of its position."""
    await router.registry.publish_symbols("a", [eurusd])
    await router.redis.xadd(f"{PREFIX}ticks:EURUSD", {"d": encode_tick(EURUSD_TICK)})
    await router.refresh()
    signal = {"order_id": "t1", "symbol": "EURUSD", "order_type": "buy", "volume": "0.01",
              "instances": ["a"], "strategy": "trend",
              "trailing": {"distance": 10, "breakeven_trigger": 5}}  # fmt: skip
    await committed(router, signal)
    [(comment, raw)] = (await router.redis.hgetall(f"{PREFIX}ptrail:a")).items()
    assert comment == order_comment("t1", "a", "trend").encode()
    stored = orjson.loads(raw)
    assert TrailingStop.model_validate(stored["trailing"]) == TrailingStop(
        enabled=True, distance=100, breakeven_trigger=50
    )
    await committed(router, {**signal, "order_id": "t2", "trailing": None})
    assert await router.redis.hlen(f"{PREFIX}ptrail:a") == 1  # no trailing, nothing left


async def test_a_snapshot_without_a_usable_balance_is_logged_once_per_value(
    router: Router,
) -> None:
    """Each snapshot is decoded once per refresh; one without a number for a balance leaves
    its instance without one (risk sizing refuses) and is logged with the rule it broke."""
    await router.registry.put(InstanceSpec(instance_id="a", login=1))
    rules = []
    for raw in (b'{"balance": true, "equity": 5.0}', b"{", b"[]", b'{"equity": 5.0}'):
        await router.redis.set(f"{PREFIX}state:a", raw)
        with capture_logs() as logs:
            await router.refresh()
            await router.refresh()  # the same value again: not logged twice
        assert "a" not in router.balances
        rules += [e["rule"] for e in logs if e["event"] == "state_snapshot_refused"]
    assert rules[0] == "must be a number, not bool" and rules[-1] == "is missing"
    assert len(rules) == 4 and "list indices" in rules[2]
    await router.redis.set(f"{PREFIX}state:a", b'{"balance": 10.5, "equity": 9.5}')
    await router.refresh()
    assert router.balances["a"] == Decimal("10.5") == router.figures["a"]["balance"]
