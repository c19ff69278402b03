"""Configuration that admits or refuses a signal: sources, sessions, per-symbol overrides."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from brokers.mt5.records import SymbolInfo
from model import InstanceSpec, Order, Signal, TradingState
from processors.router.plan import Market, plan_orders
from processors.rules import Refusal
from tests.stubs import EURUSD_TICK

NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC).timestamp()
NIGHT = datetime(2026, 11, 25, 23, 30, tzinfo=UTC).timestamp()


def spec(**config: object) -> InstanceSpec:
    return InstanceSpec.model_validate({"instance_id": "acct-1", "login": 1, "config": config})


def plan(info: SymbolInfo, instance: InstanceSpec, now: float = NOON, **signal: object) -> Order:
    market = Market(info, EURUSD_TICK, Decimal(10_000), TradingState.ACTIVE)
    [order] = plan_orders(
        Signal.model_validate({"symbol": "EURUSD", **signal}), instance, market, now
    )
    return order


def refusal(
    info: SymbolInfo, instance: InstanceSpec, now: float = NOON, **signal: object
) -> Refusal:
    with pytest.raises(Refusal) as caught:
        plan(info, instance, now, **signal)
    return caught.value


def test_only_allowed_sources_may_trade(eurusd: SymbolInfo) -> None:
    only_tv = spec(allowed_sources=["tradingview"])
    assert plan(eurusd, only_tv, order_type="buy", volume="0.1", source="tradingview")
    refused = refusal(eurusd, only_tv, order_type="buy", volume="0.1", source="api")
    assert (refused.field, refused.rule) == (
        "source",
        "api may not trade this instance (allowed: tradingview)",
    )
    assert refusal(eurusd, only_tv, action="close", source="api").field == "source"


def test_sessions_limit_new_positions_but_never_exits(eurusd: SymbolInfo) -> None:
    london = spec(allowed_sessions=["07:00-16:00"])
    assert plan(eurusd, london, NOON, order_type="buy", volume="0.1")
    refused = refusal(eurusd, london, NIGHT, order_type="buy", volume="0.1")
    assert (refused.field, refused.rule) == (
        "allowed_sessions",
        "23:30 UTC is outside the trading sessions (07:00-16:00)",
    )
    assert plan(eurusd, london, NIGHT, action="close").action == "close"
    overnight = spec(allowed_sessions=["22:00-06:00"])
    assert plan(eurusd, overnight, NIGHT, order_type="buy", volume="0.1")


def test_per_symbol_overrides_apply_to_their_symbol_only(eurusd: SymbolInfo) -> None:
    instance = spec(
        lot_size="0.02",
        slippage_points=10,
        max_spread=50,
        symbols={"EURUSD": {"lot_size": "0.30", "slippage_points": 3, "max_spread": 5}},
    )
    refused = refusal(eurusd, instance, order_type="buy")  # the spread is 13 points
    assert (refused.field, refused.rule) == ("max_spread", "spread 13 > 5 points")
    wider = spec(lot_size="0.02", symbols={"EURUSD": {"lot_size": "0.30", "slippage_points": 3}})
    order = plan(eurusd, wider, order_type="buy")
    assert (order.volume, order.deviation) == (Decimal("0.30"), 3)
    in_pips = spec(slippage="1.5", symbols={"EURUSD": {"slippage_points": 4}})
    assert plan(eurusd, in_pips, order_type="buy").deviation == 4  # the symbol's points win
    assert plan(eurusd, spec(slippage="1.5"), order_type="buy").deviation == 15
    other = spec(lot_size="0.02", symbols={"XAUUSD": {"lot_size": "1"}})
    assert plan(eurusd, other, order_type="buy").volume == Decimal("0.02")
