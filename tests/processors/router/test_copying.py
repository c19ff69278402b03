"""One alert copied to accounts whose brokers name symbols differently and size differently,
through the router's handler on a real Redis (rtss entry in, orders and results out)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import orjson
import pytest
import redis.asyncio as aioredis

from brokers.mt5.records import SymbolInfo
from model import InstanceSpec, Order, OrderType, Result, TradingConfig
from model.tick import encode_tick
from model.topics import Topics
from processors.registry import InstanceRegistry
from processors.router.agent import Router
from processors.router.copying import signal_symbol
from streams import App, AppSettings
from tests.processors.router.test_agent import PREFIX, routed
from tests.stubs import EURUSD_TICK, XAUUSD_TICK

BUY = {"symbol": "EURUSD", "order_type": "buy", "volume": "0.1", "order_id": "copy-1"}


@pytest.fixture
async def router(redis_url: str) -> AsyncIterator[Router]:
    app = App(AppSettings(redis_url=redis_url, prefix=PREFIX, name="test"))
    client = aioredis.Redis.from_url(redis_url)
    yield Router(Topics(app), InstanceRegistry(client, PREFIX), client)
    await client.aclose()
    await app.redis.aclose()


async def accounts(
    router: Router, eurusd: SymbolInfo, **configs: tuple[str, TradingConfig]
) -> None:
    """Instances named by keyword, each with its broker's name of EURUSD and a config."""
    specs = []
    for n, (instance, (name, config)) in enumerate(configs.items(), start=1):
        specs.append(InstanceSpec(instance_id=instance, login=n, config=config))
        await router.registry.publish_symbols(instance, [eurusd._replace(name=name)])
        await router.redis.xadd(f"{PREFIX}ticks:{name}", {"d": encode_tick(EURUSD_TICK)})
    await router.registry.put(*specs)
    await router.refresh()


async def test_one_alert_reaches_three_brokers_naming_eurusd_three_ways_each_sized_its_way(
    router: Router, eurusd: SymbolInfo
) -> None:
    await accounts(
        router,
        eurusd,
        plain=("EURUSD", TradingConfig()),
        found=("EURUSD.m", TradingConfig(lot_multiplier=Decimal(2))),  # from its symbol list
        suffixed=("EURUSDpro", TradingConfig(symbol_suffix="pro", fixed_lot=Decimal("0.05"))),
        capped=("EURUSD-ecn", TradingConfig(lot_multiplier=Decimal(5), max_volume=Decimal("0.3"))),
    )
    written = {w.instance: w for w in await routed(router, BUY)}
    plain, found, suffixed, capped = (written[i] for i in ("plain", "found", "suffixed", "capped"))
    assert isinstance(plain, Order) and isinstance(found, Order) and isinstance(suffixed, Order)
    assert (plain.symbol, plain.signal_symbol, plain.volume) == ("EURUSD", None, Decimal("0.1"))
    assert plain.sizing == "volume 0.1"
    assert (found.symbol, found.signal_symbol, found.volume) == (
        "EURUSD.m",
        "EURUSD",
        Decimal("0.2"),
    )
    assert found.sizing == "volume 0.1 × lot_multiplier 2 = 0.2"
    assert (suffixed.symbol, suffixed.volume, suffixed.sizing) == (
        "EURUSDpro",
        Decimal("0.05"),
        "fixed_lot 0.05",
    )
    assert isinstance(capped, Result) and capped.field == "max_volume"  # 0.5 lots > 0.3
    assert capped.error == "max_volume: 0.5 lots is more than the 0.3 one order may have"


async def test_an_explicit_map_names_gold_and_an_unmappable_symbol_is_refused_per_instance(
    router: Router, xauusd: SymbolInfo
) -> None:
    gold = xauusd._replace(name="GOLD")
    await router.registry.put(
        InstanceSpec(
            instance_id="mapped", login=1, config=TradingConfig(symbol_map={"XAUUSD": "GOLD"})
        ),
        InstanceSpec(instance_id="unmapped", login=2),
        InstanceSpec(
            instance_id="wrong", login=3, config=TradingConfig(symbol_map={"XAUUSD": "XAU"})
        ),
    )
    for instance in ("mapped", "unmapped", "wrong"):
        await router.registry.publish_symbols(instance, [gold])
    await router.redis.xadd(f"{PREFIX}ticks:GOLD", {"d": encode_tick(XAUUSD_TICK)})
    await router.refresh()
    signal = {"symbol": "XAUUSD", "order_type": "sell", "volume": "0.01"}
    [order] = await routed(router, signal)  # a broadcast goes where the symbol maps
    assert isinstance(order, Order)
    assert (order.instance, order.symbol, order.signal_symbol) == ("mapped", "GOLD", "XAUUSD")
    named = await routed(router, {**signal, "instances": ["unmapped", "wrong"]})
    refusals = {r.instance: r.error for r in named if isinstance(r, Result)}
    assert refusals == {
        "unmapped": "symbol: XAUUSD is not traded by this instance's broker (no symbol_map)",
        "wrong": "symbol: symbol_map.XAUUSD is XAU, which the broker lacks",
    }


async def test_two_candidate_names_are_refused_until_a_map_chooses(
    router: Router, eurusd: SymbolInfo
) -> None:
    await router.registry.put(InstanceSpec(instance_id="a", login=1))
    await router.registry.publish_symbols(
        "a", [eurusd._replace(name="EURUSD.m"), eurusd._replace(name="EURUSD.r")]
    )
    await router.refresh()
    [refused] = await routed(router, {**BUY, "instances": ["a"]})
    assert isinstance(refused, Result)
    assert refused.error == "symbol: EURUSD may be any of EURUSD.m, EURUSD.r: set symbol_map.EURUSD"


async def test_reverse_copy_sells_what_the_alert_buys_with_stop_and_target_swapped(
    router: Router, eurusd: SymbolInfo
) -> None:
    await accounts(
        router,
        eurusd,
        same=("EURUSD", TradingConfig()),
        mirror=("EURUSD", TradingConfig(reverse=True)),
    )
    signal = {**BUY, "stop_loss": "20", "take_profit": "40", "stops_unit": "pips"}
    written = {w.instance: w for w in await routed(router, signal)}
    same, mirror = written["same"], written["mirror"]
    assert isinstance(same, Order) and isinstance(mirror, Order)
    assert (same.order_type, same.stop_loss, same.take_profit) == (
        OrderType.BUY,
        Decimal("1.38555"),  # the ask 1.38755 - 20 pips
        Decimal("1.39155"),
    )
    assert (mirror.order_type, mirror.stop_loss, mirror.take_profit) == (
        OrderType.SELL,
        Decimal("1.39142"),  # the bid 1.38742 + 40 pips: the buy's target is the sell's stop
        Decimal("1.38542"),
    )
    pending = {**BUY, "order_type": "buy_limit", "price": "1.38", "order_id": "copy-2"}
    [placed] = await routed(router, {**pending, "instances": ["mirror"]})
    assert isinstance(placed, Order) and placed.order_type is OrderType.SELL_STOP
    stop_limit = {**pending, "order_type": "buy_stop_limit", "price": "1.39", "stop_limit": "1.388"}
    [refused] = await routed(router, {**stop_limit, "instances": ["mirror"]})
    assert isinstance(refused, Result)
    assert refused.error == "reverse: a buy_stop_limit order has no reverse to copy"
    ladder = {**BUY, "order_id": "copy-3", "stop_loss": "20", "stops_unit": "pips",
              "take_profits": [{"take_profit": "10"}, {"take_profit": "20"}]}  # fmt: skip
    routes = {w.instance: w for w in await routed(router, ladder)}
    assert isinstance(routes["same"], Order) and routes["same"].stop_loss  # the alert's own
    assert isinstance(routes["mirror"], Result)  # never a sell without its stop loss
    assert routes["mirror"].error == "reverse: a ladder of take profits cannot be copied in reverse"


async def test_a_reverse_copying_accounts_own_ticket_keeps_its_stops_as_given(
    router: Router, eurusd: SymbolInfo
) -> None:
    """An SL/TP change or a close for one ticket of the account (the console's) names that
    account's own prices: nothing to mirror."""
    await accounts(router, eurusd, mirror=("EURUSD", TradingConfig(reverse=True)))
    sltp = {"action": "sltp", "symbol": "EURUSD", "ticket": 7, "instances": ["mirror"],
            "stop_loss": "1.38", "take_profit": "1.4", "order_id": "own-1"}  # fmt: skip
    [order] = await routed(router, sltp)
    assert isinstance(order, Order)
    assert (order.ticket, order.stop_loss, order.take_profit) == (
        7,
        Decimal("1.38"),
        Decimal("1.4"),
    )


async def test_risk_sizing_is_multiplied_and_capped_by_each_accounts_risk(
    router: Router, eurusd: SymbolInfo
) -> None:
    """Each account sizes 1% of its own balance, then its multiplier; max_risk_percent bounds
    the result (a doubled 1% is 2%), valued on live quotes in the account currency."""
    await accounts(
        router,
        eurusd,
        one=("EURUSD", TradingConfig(sizing="risk_percent")),
        two=("EURUSD", TradingConfig(sizing="risk_percent", lot_multiplier=Decimal(2))),
        capped=(
            "EURUSD",
            TradingConfig(
                sizing="risk_percent", lot_multiplier=Decimal(2), max_risk_percent=Decimal("1.5")
            ),
        ),
    )
    for instance in ("one", "two", "capped"):
        state = {"balance": 10_000.0, "currency": "USD", "positions": [], "orders": []}
        await router.redis.set(f"{PREFIX}state:{instance}", orjson.dumps(state))
    await router.refresh()
    signal = {k: v for k, v in BUY.items() if k != "volume"}
    signal |= {"stop_loss": "50", "stops_unit": "pips"}  # 50 pips of 1 lot = 500 USD
    written = {w.instance: w for w in await routed(router, signal)}
    one, two, capped = written["one"], written["two"], written["capped"]
    assert isinstance(one, Order) and isinstance(two, Order)
    assert (one.volume, one.sizing) == (Decimal("0.2"), "risk_percent 1: 0.2")
    assert (two.volume, two.sizing) == (
        Decimal("0.4"),
        "risk_percent 1: 0.2 × lot_multiplier 2 = 0.4",
    )
    assert isinstance(capped, Result) and capped.field == "max_risk_percent"
    assert "is 2.00% of the balance 10000.00, more than 1.5%" in str(capped.error)


def test_a_brokers_name_maps_back_to_the_signals_symbol_as_it_was_mapped(
    eurusd: SymbolInfo,
) -> None:
    """What a position's broker name is quoted by when it has no tick stream of its own."""
    gold = eurusd._replace(name="GOLD", currency_base="XAU")
    assert signal_symbol(gold, TradingConfig(symbol_map={"XAUUSD": "GOLD"})) == "XAUUSD"
    prefixed = eurusd._replace(name="pEURUSD.ecn")
    config = TradingConfig(symbol_prefix="p", symbol_suffix=".ecn")
    assert signal_symbol(prefixed, config) == "EURUSD"
    assert signal_symbol(eurusd._replace(name="EURUSD.m"), TradingConfig()) == "EURUSD"
    assert signal_symbol(eurusd, TradingConfig()) is None  # its own name: nothing else
    assert signal_symbol(gold, TradingConfig()) is None  # GOLD is no variant of XAUUSD
