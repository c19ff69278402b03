"""Prop-firm rules in the router on a real Redis: a day's loss limit measured on live
equity (open positions revalued at each new tick) halts and closes an account until the
broker's next day; trades per day; the live loss of one lot in risk sizing and caps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
import redis.asyncio as aioredis
from prometheus_client import REGISTRY

from brokers.mt5 import constants as mt5
from brokers.mt5.records import SymbolInfo
from brokers.sim.symbols import default_symbols
from model import Action, InstanceSpec, Order, Result, TradingConfig
from model.report import InstanceReport, ReportKind
from model.risk import RiskRules
from model.tick import Tick, encode_tick
from model.topics import Topics
from processors.registry import InstanceRegistry
from processors.router.agent import Router
from streams import App, AppSettings
from tests.processors.router.test_agent import PREFIX, committed, routed
from tests.stubs import EURUSD_TICK


async def last(router: Router, key: str, count: int = 1) -> list[bytes]:
    """The `d` field of a stream's newest `count` entries, newest first."""
    found: Any = await router.redis.xrevrange(f"{PREFIX}{key}", count=count)
    return [fields[b"d"] for _, fields in found]


NEW_YORK = ZoneInfo("America/New_York")
MONDAY_NOON = datetime(2026, 12, 7, 12, 0, tzinfo=NEW_YORK).timestamp()  # day 2026-12-06
MONDAY_EVENING = datetime(2026, 12, 7, 17, 0, tzinfo=NEW_YORK).timestamp()  # day 2026-12-07
BUY = {"symbol": "EURUSD", "order_type": "buy", "volume": "0.1", "instances": ["a"]}


@asynccontextmanager
async def serving(redis_url: str) -> AsyncIterator[Router]:
    """A router whose agent runs on `rtss` (holding the lease if it is free), as a worker
    process has it; its timer is left to the test (`router.refresh()`)."""
    app = App(AppSettings(redis_url=redis_url, prefix=PREFIX, name="test", block_ms=50))
    client = aioredis.Redis.from_url(redis_url)
    router = Router(Topics(app), InstanceRegistry(client, PREFIX), client)
    router.serve(app)
    await app.start()
    try:
        yield router
    finally:
        await app.stop()
        await client.aclose()


@pytest.fixture
async def router(redis_url: str) -> AsyncIterator[Router]:
    async with serving(redis_url) as router:  # the rtss lease holder: it sends close_all
        yield router


async def account(router: Router, eurusd: SymbolInfo, rules: RiskRules, positions: int) -> None:
    """Instance `a` (10,000 USD) holding `positions` 1-lot EURUSD buys bought at the
    recorded ask; its snapshot shows no profit, as one taken before the market moved."""
    config = TradingConfig(risk=rules)
    await router.registry.put(InstanceSpec(instance_id="a", login=1, config=config))
    await router.registry.publish_symbols("a", [eurusd])
    position = {"symbol": "EURUSD", "type": mt5.POSITION_TYPE_BUY, "volume": 1.0}
    position |= {"price_open": EURUSD_TICK.ask, "profit": 0.0}
    state = {"balance": 10_000.0, "equity": 10_000.0, "currency": "USD", "orders": []}
    state["positions"] = [position] * positions
    await router.redis.set(f"{PREFIX}state:a", orjson.dumps(state))
    await tick(router, EURUSD_TICK.bid)


async def tick(router: Router, bid: float) -> None:
    moved = EURUSD_TICK._replace(bid=bid, ask=round(bid + 0.00013, 5))
    await router.redis.xadd(f"{PREFIX}ticks:EURUSD", {"d": encode_tick(moved)})


async def test_a_days_loss_limit_closes_and_halts_the_account_until_the_next_broker_day(
    router: Router, eurusd: SymbolInfo
) -> None:
    rules = RiskRules(
        daily_loss_percent=Decimal(5),
        day_start="17:00",
        timezone="America/New_York",
        close_all=True,
    )
    await account(router, eurusd, rules, positions=1)
    router.risk.clock = lambda: MONDAY_NOON
    await router.refresh()  # the day's start: 10,000 - 13 USD (the spread of the open buy)
    assert await router.redis.hget(f"{PREFIX}risk:a", "start:2026-12-06") == b"9987.00"
    [order] = await routed(router, BUY)
    assert isinstance(order, Order)

    await tick(router, 1.38242)  # 50 pips down: -513 USD, 500 from the start, 5.006%
    await router.refresh()  # the snapshot still shows no loss: the live valuation sees it
    [refused] = await routed(router, BUY)
    assert isinstance(refused, Result) and refused.field == "risk.daily_loss_percent"
    assert refused.error == (
        "risk.daily_loss_percent: a lost 500.00 in 2026-12-06, limit 499.35: halted until "
        "2026-12-07 22:00 UTC or an operator lifts it"
    )
    [raw] = await last(router, "ris", 2)
    report = InstanceReport.model_validate_json(raw)
    assert (report.kind, report.equity) == (ReportKind.RISK_LIMIT, 9487.0)
    [raw] = await last(router, "orders:a", 2)
    close = Order.model_validate_json(raw)
    assert (close.action, close.order_id) == (
        Action.CLOSE_ALL,
        "risk/2026-12-06/risk.daily_loss_percent",
    )
    assert REGISTRY.get_sample_value("eaflow_risk_limit_hit", {"instance_id": "a"}) == 1
    await router.refresh()  # the breach holds: no second report nor close
    assert await router.redis.xlen(f"{PREFIX}ris") == 1
    assert await router.redis.xlen(f"{PREFIX}orders:a") == 1

    router.risk.clock = lambda: MONDAY_EVENING  # 17:00 in New York: the next broker day
    await router.refresh()
    [order] = await routed(router, BUY)
    assert isinstance(order, Order)
    assert REGISTRY.get_sample_value("eaflow_risk_limit_hit", {"instance_id": "a"}) == 0
    fields = set(await router.redis.hkeys(f"{PREFIX}risk:a"))  # the old day and week pruned
    assert fields == {b"start:2026-12-07", b"start:2026-W50"}


async def test_reducing_lets_exits_through_and_an_operator_lifts_a_breach(
    router: Router, eurusd: SymbolInfo
) -> None:
    rules = RiskRules(daily_loss=Decimal(100), on_limit="reducing")
    await account(router, eurusd, rules, positions=1)
    router.risk.clock = lambda: MONDAY_NOON
    await router.refresh()
    await tick(router, 1.38642)  # -113 USD: 100 from the day's start
    await router.refresh()
    [refused] = await routed(router, BUY)
    assert isinstance(refused, Result) and refused.field == "risk.daily_loss"
    assert "reducing until 2026-12-08 00:00 UTC" in str(refused.error)
    [exit_] = await routed(router, {"action": "close_all", "instances": ["a"]})
    assert isinstance(exit_, Order) and exit_.action is Action.CLOSE_ALL
    assert await router.redis.xlen(f"{PREFIX}orders:a") == 0  # no close_all asked for

    await router.redis.delete(f"{PREFIX}risk:a")  # the operator lifts it: a new start
    await router.refresh()
    assert await router.redis.hget(f"{PREFIX}risk:a", "start:2026-12-07") == b"9887.00"
    [order] = await routed(router, BUY)
    assert isinstance(order, Order)


async def test_trades_per_day_are_counted_in_redis_by_every_router(
    router: Router, eurusd: SymbolInfo
) -> None:
    await account(router, eurusd, RiskRules(max_trades_per_day=2), positions=0)
    router.risk.clock = lambda: MONDAY_NOON
    await router.refresh()
    for n in range(2):
        await committed(router, {**BUY, "order_id": f"t{n}"})
    other = Router(router.topics, router.registry, router.redis)
    other.risk.clock = router.risk.clock
    await other.refresh()
    [refused] = await committed(other, {**BUY, "order_id": "t2"})
    assert refused.error == (
        "risk.max_trades_per_day: a opened 2 orders on 2026-12-07, the most a day may have"
    )
    [close] = await routed(other, {"action": "close_all", "instances": ["a"]})
    assert isinstance(close, Order)  # exits are not trades
    other.risk.clock = lambda: MONDAY_NOON + 86_400
    await other.refresh()
    assert await committed(other, {**BUY, "order_id": "t3"}) == []  # no refusal: an order
    newest = [Order.model_validate_json(raw).order_id for raw in await last(router, "orders:a", 9)]
    assert newest == ["t3", "t1", "t0"]


def usdjpy_frozen_at_150() -> SymbolInfo:
    """USDJPY as published while it traded at 150: one point of one lot worth 100/150 USD."""
    info = default_symbols().get("USDJPY")
    assert info is not None
    return info._replace(trade_tick_value=0.6667, trade_tick_value_loss=0.6667)


async def test_risk_sizing_and_caps_value_the_loss_at_the_stop_on_live_quotes(
    router: Router,
) -> None:
    """USDJPY moved 150 → 140 since its tick value was published: 1% of 10,000 at a 1.00 stop
    loses 100,000 JPY at 139.000 = 719.42 USD a lot, so 0.13 lots (the frozen tick value
    would give 0.14, losing 100.72); and 0.14 fixed lots break max_risk_percent=1."""
    config = TradingConfig(sizing="risk_percent", max_risk_percent=Decimal(1))
    await router.registry.put(InstanceSpec(instance_id="a", login=1, config=config))
    await router.registry.publish_symbols("a", [usdjpy_frozen_at_150()])
    state = {"balance": 10_000.0, "currency": "USD", "positions": [], "orders": []}
    await router.redis.set(f"{PREFIX}state:a", orjson.dumps(state))
    now = Tick(
        time=1, bid=139.99, ask=140.0, last=0.0, volume=0, time_msc=1000, flags=6, volume_real=0.0
    )
    await router.redis.xadd(f"{PREFIX}ticks:USDJPY", {"d": encode_tick(now)})
    await router.refresh()
    signal = {"symbol": "USDJPY", "order_type": "buy", "stop_loss": "100", "stops_unit": "pips"}
    [order] = await routed(router, signal)
    assert isinstance(order, Order) and order.volume == Decimal("0.13")
    [refused] = await routed(router, {**signal, "volume": "0.14"})
    assert isinstance(refused, Result) and refused.field == "max_risk_percent"
    assert "risking 100.72 at the stop loss is 1.01% of the balance" in str(refused.error)


async def test_a_weeks_loss_limit_holds_until_monday_at_the_day_start(
    router: Router, eurusd: SymbolInfo
) -> None:
    rules = RiskRules(weekly_loss_percent=Decimal(2), daily_loss_percent=Decimal(5))
    await account(router, eurusd, rules, positions=1)
    router.risk.clock = lambda: MONDAY_NOON  # 17:00 UTC: week 2026-W50 began at 00:00
    await router.refresh()
    await tick(router, 1.38542)  # -213 USD: 200 from the week's start, 2%, not 5% a day
    await router.refresh()
    [refused] = await routed(router, BUY)
    assert isinstance(refused, Result) and refused.field == "risk.weekly_loss_percent"
    assert "in 2026-W50, limit 199.74: halted until 2026-12-14 00:00 UTC" in str(refused.error)
    router.risk.clock = lambda: MONDAY_NOON + 86_400  # Tuesday: a new day, the same week
    await router.refresh()
    [still] = await routed(router, BUY)
    assert isinstance(still, Result) and still.field == "risk.weekly_loss_percent"


async def test_an_unreadable_breach_record_halts_until_an_operator_lifts_it(
    router: Router, eurusd: SymbolInfo
) -> None:
    await account(router, eurusd, RiskRules(daily_loss=Decimal(100)), positions=0)
    router.risk.clock = lambda: MONDAY_NOON
    await router.redis.hset(f"{PREFIX}risk:a", "breach:2026-12-07", "{not json")
    await router.refresh()
    [refused] = await routed(router, BUY)
    assert isinstance(refused, Result) and refused.error == (
        "risk: a's breach record is unreadable: halted until `eaflow risk lift a`"
    )


async def test_a_snapshot_with_an_unreadable_position_is_not_judged_and_others_are(
    router: Router, eurusd: SymbolInfo
) -> None:
    await account(router, eurusd, RiskRules(daily_loss=Decimal(100)), positions=1)
    await router.registry.put(
        InstanceSpec(
            instance_id="b", login=2, config=TradingConfig(risk=RiskRules(daily_loss=Decimal(1)))
        )
    )
    await router.registry.publish_symbols("b", [eurusd])
    broken = {"balance": 1.0, "currency": "USD", "orders": [], "positions": [{"symbol": "EURUSD"}]}
    await router.redis.set(f"{PREFIX}state:b", orjson.dumps(broken))
    router.risk.clock = lambda: MONDAY_NOON
    await router.refresh()
    assert await router.redis.hget(f"{PREFIX}risk:a", "start:2026-12-07") == b"9987.00"
    assert not await router.redis.exists(f"{PREFIX}risk:b")


async def test_the_end_of_a_breach_is_reported_once_by_the_router_that_ends_it(
    router: Router, eurusd: SymbolInfo
) -> None:
    await account(router, eurusd, RiskRules(daily_loss=Decimal(100)), positions=1)
    router.risk.clock = lambda: MONDAY_NOON
    await router.refresh()
    await tick(router, 1.38642)  # -113 USD: 100 from the day's start
    await router.refresh()
    other = Router(router.topics, router.registry, router.redis)
    for guard in (router.risk, other.risk):
        guard.clock = lambda: MONDAY_NOON + 86_400
    await router.refresh()
    await other.refresh()
    reports = [InstanceReport.model_validate_json(raw) for raw in await last(router, "ris", 9)]
    assert [(r.kind, r.error) for r in reports] == [
        (ReportKind.RISK_CLEARED, "the loss limit of 2026-12-07 ended with it"),
        (ReportKind.RISK_LIMIT, reports[1].error),
    ]
    assert "risk.daily_loss: a lost 100.00 in 2026-12-07" in str(reports[1].error)


async def test_only_the_lease_holder_sends_a_breachs_close_all_once(
    router: Router, redis_url: str, eurusd: SymbolInfo
) -> None:
    """Every router judges the limits on its timer, but only the one holding the `rtss`
    lease sends the close_all, whichever of them found and wrote the breach."""
    rules = RiskRules(daily_loss=Decimal(100), close_all=True)
    await account(router, eurusd, rules, positions=1)
    async with serving(redis_url) as standby:
        holder = router.topics.app.agents[0].consumer
        assert await router.redis.get(f"{PREFIX}lease:rtss:router") == holder.encode()
        for guard in (router.risk, standby.risk):
            guard.clock = lambda: MONDAY_NOON
        await standby.refresh()
        await router.refresh()  # the day's start
        await tick(router, 1.38642)  # -113 USD: 100 from the day's start
        await standby.refresh()  # the standby finds the breach first: written and reported
        assert await router.redis.xlen(f"{PREFIX}ris") == 1
        assert await router.redis.xlen(f"{PREFIX}orders:a") == 0  # but no close_all
        for _ in range(2):
            await router.refresh()  # the holder reads the breach: it sends the close_all
            await standby.refresh()
        [raw] = await last(router, "orders:a", 9)
        close = Order.model_validate_json(raw)
        assert (close.action, close.order_id) == (
            Action.CLOSE_ALL,
            "risk/2026-12-07/risk.daily_loss",
        )
        assert await router.redis.xlen(f"{PREFIX}ris") == 1


async def test_a_breach_closes_pending_orders_when_no_position_is_left(
    router: Router, eurusd: SymbolInfo
) -> None:
    """The day's loss realised (balance down, nothing open) with a pending order still at
    the broker: close_all is sent for it too, or it could fill on a halted account."""
    rules = RiskRules(
        daily_loss_percent=Decimal(5),
        day_start="17:00",
        timezone="America/New_York",
        close_all=True,
    )
    await account(router, eurusd, rules, positions=0)
    router.risk.clock = lambda: MONDAY_NOON
    await router.refresh()  # the day's start: 10,000
    pending = {"symbol": "EURUSD", "type": mt5.ORDER_TYPE_BUY_LIMIT, "volume_current": 1.0}
    state = {"balance": 9_400.0, "equity": 9_400.0, "currency": "USD", "positions": []}
    state["orders"] = [pending | {"price_open": 1.37}]
    await router.redis.set(f"{PREFIX}state:a", orjson.dumps(state))
    await router.refresh()
    [raw] = await last(router, "orders:a")
    close = Order.model_validate_json(raw)
    assert (close.action, close.order_id) == (
        Action.CLOSE_ALL,
        "risk/2026-12-06/risk.daily_loss_percent",
    )


async def test_a_suffixed_accounts_loss_limit_is_judged_on_its_signals_ticks(
    router: Router, eurusd: SymbolInfo
) -> None:
    """A broker naming EURUSD `EURUSD.m` (sim://?suffix=.m) has no ticks:EURUSD.m: its
    positions are valued on ticks:EURUSD, as its orders are sized, not on the snapshot."""
    rules = RiskRules(daily_loss=Decimal(400), day_start="17:00", timezone="America/New_York")
    await router.registry.put(
        InstanceSpec(instance_id="a", login=1, config=TradingConfig(risk=rules))
    )
    await router.registry.publish_symbols("a", [eurusd._replace(name="EURUSD.m")])
    position = {"symbol": "EURUSD.m", "type": mt5.POSITION_TYPE_BUY, "volume": 1.0}
    position |= {"price_open": EURUSD_TICK.ask, "profit": 0.0}
    state = {"balance": 10_000.0, "equity": 10_000.0, "currency": "USD", "orders": []}
    await router.redis.set(f"{PREFIX}state:a", orjson.dumps(state | {"positions": [position]}))
    await tick(router, EURUSD_TICK.bid)
    router.risk.clock = lambda: MONDAY_NOON
    await router.refresh()  # the day starts at 10,000 - 13 USD: the spread, from the tick
    assert await router.redis.hget(f"{PREFIX}risk:a", "start:2026-12-06") == b"9987.00"

    await tick(router, 1.38242)  # 50 pips down: the snapshot still shows no profit
    await router.refresh()
    [refused] = await routed(router, BUY)
    assert isinstance(refused, Result) and refused.field == "risk.daily_loss"
    assert "a lost 500.00 in 2026-12-06, limit 400.00" in (refused.error or "")
