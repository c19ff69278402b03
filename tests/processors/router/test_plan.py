"""The router's order planning: sizing, stops, symbol rules, trading state."""

from __future__ import annotations

from decimal import Decimal

import pytest

from brokers.mt5.records import SymbolInfo
from model import InstanceSpec, Signal, TradingConfig, TradingState
from processors.router.plan import Market, plan_order
from processors.rules import Refusal
from tests.stubs import EURUSD_TICK

SPEC = InstanceSpec(instance_id="acct-1", login=1, magic=77)


def market(info: SymbolInfo, balance: str | None = "10000") -> Market:
    return Market(info, EURUSD_TICK, Decimal(balance) if balance else None, TradingState.ACTIVE)


def plan(info: SymbolInfo, spec: InstanceSpec = SPEC, **signal: object) -> object:
    return plan_order(
        Signal.model_validate({"symbol": "EURUSD", **signal}), spec, market(info), 1.0
    )


def refusal(info: SymbolInfo, spec: InstanceSpec = SPEC, **signal: object) -> Refusal:
    with pytest.raises(Refusal) as caught:
        plan(info, spec, **signal)
    return caught.value


def test_market_buy_with_pip_stops_is_priced_from_the_ask(eurusd: SymbolInfo) -> None:
    order = plan(
        eurusd, order_type="buy", volume="0.10", stop_loss=20, take_profit=40, stops_unit="pips"
    )
    assert order.volume == Decimal("0.10")  # type: ignore[attr-defined]
    assert order.stop_loss == Decimal("1.38555")  # type: ignore[attr-defined]  # ask - 200 points
    assert order.take_profit == Decimal("1.39155")  # type: ignore[attr-defined]
    assert order.magic == 77 and order.deviation == 10  # type: ignore[attr-defined]


def test_sell_stops_in_points_lie_on_the_other_side(eurusd: SymbolInfo) -> None:
    order = plan(eurusd, order_type="sell", volume="1", stop_loss=150, stops_unit="points")
    assert order.stop_loss == Decimal("1.38892")  # type: ignore[attr-defined]  # bid + 150 points


def test_risk_percent_sizing_floors_onto_the_volume_step(eurusd: SymbolInfo) -> None:
    # 1% of 10,000 = 100 USD over 20 pips (200 ticks × 1 USD per lot) = 0.5 lots
    order = plan(
        eurusd, order_type="buy", stop_loss=20, stops_unit="pips", sizing="risk_percent", risk=1
    )
    assert order.volume == Decimal("0.50")  # type: ignore[attr-defined]
    # 33 USD over 200 ticks = 0.165 lots → 0.16 (never more risk than asked)
    order = plan(
        eurusd, order_type="buy", stop_loss=20, stops_unit="pips", sizing="risk_money", risk=33
    )
    assert order.volume == Decimal("0.16")  # type: ignore[attr-defined]


def test_configured_lot_size_applies_when_the_signal_has_no_volume(eurusd: SymbolInfo) -> None:
    spec = SPEC.model_copy(update={"config": TradingConfig(lot_size=Decimal("0.3"))})
    assert plan(eurusd, spec, order_type="sell").volume == Decimal("0.3")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("signal", "field", "words"),
    [
        ({"order_type": "buy", "volume": "0.015"}, "volume", "multiple of volume_step 0.01"),
        ({"order_type": "buy", "volume": "0.001"}, "volume", "at least volume_min"),
        ({"order_type": "buy", "volume": "501"}, "volume", "at most volume_max"),
        ({"order_type": "buy_limit", "volume": "1", "price": "1.387555"}, "price", "tick size"),
        ({"order_type": "buy_limit", "volume": "1", "price": "1.39"}, "price", "below the ask"),
        ({"order_type": "sell_stop", "volume": "1", "price": "1.39"}, "price", "below the bid"),
        ({"order_type": "buy", "volume": "1", "stop_loss": "1.3880"}, "stop_loss", "below"),
        ({"order_type": "sell", "volume": "1", "take_profit": "1.3880"}, "take_profit", "below"),
        ({"order_type": "buy", "sizing": "risk_percent", "risk": 1}, "stop_loss", "required"),
    ],
)
def test_refusals_name_the_field_and_rule(
    eurusd: SymbolInfo, signal: dict[str, object], field: str, words: str
) -> None:
    refused = refusal(eurusd, SPEC, **signal)
    assert refused.field == field
    assert words in refused.rule


def test_stops_level_is_enforced(eurusd: SymbolInfo) -> None:
    strict = eurusd._replace(trade_stops_level=50)
    refused = refusal(strict, order_type="buy", volume="1", stop_loss="1.38700")
    assert refused.field == "stop_loss" and "1.38692" in refused.rule  # bid - 50 points
    assert plan(strict, order_type="buy", volume="1", stop_loss="1.38692")


def test_trading_state_halts_everything_and_reducing_allows_exits(eurusd: SymbolInfo) -> None:
    halted = SPEC.model_copy(update={"config": TradingConfig(trading_state=TradingState.HALTED)})
    assert refusal(eurusd, halted, order_type="buy", volume="1").field == "trading_state"
    reducing = SPEC.model_copy(
        update={"config": TradingConfig(trading_state=TradingState.REDUCING)}
    )
    assert refusal(eurusd, reducing, order_type="buy", volume="1").field == "trading_state"
    assert plan(eurusd, reducing, action="close").action == "close"  # type: ignore[attr-defined]


def test_allowed_symbols_and_max_spread(eurusd: SymbolInfo) -> None:
    only_gold = SPEC.model_copy(update={"config": TradingConfig(allowed_symbols=("XAUUSD",))})
    assert refusal(eurusd, only_gold, order_type="buy", volume="1").field == "symbol"
    tight = SPEC.model_copy(update={"config": TradingConfig(max_spread=10)})
    assert refusal(eurusd, tight, order_type="buy", volume="1").field == "max_spread"  # 13 points
