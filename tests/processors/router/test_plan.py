"""The router's order planning: sizing, stops, symbol rules, trading state."""

from __future__ import annotations

from decimal import Decimal

import pytest

from brokers.mt5.records import SymbolInfo
from model import InstanceSpec, Signal, TradingConfig, TradingState
from model.config import AlertSwitch
from processors.registry import UNREADABLE_SWITCH
from processors.router.plan import Market, order_id_of, plan_orders, plan_switch
from processors.rules import Refusal
from tests.stubs import EURUSD_TICK

SPEC = InstanceSpec(instance_id="acct-1", login=1, magic=77)


def market(info: SymbolInfo, balance: str | None = "10000") -> Market:
    return Market(info, EURUSD_TICK, Decimal(balance) if balance else None, TradingState.ACTIVE)


def plan(info: SymbolInfo, spec: InstanceSpec = SPEC, **signal: object) -> object:
    [order] = plan_orders(
        Signal.model_validate({"symbol": "EURUSD", **signal}), spec, market(info), 1.0
    )
    return order


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


PIPS_20: dict[str, object] = {"stop_loss": 20, "stops_unit": "pips"}


def capped(**config: object) -> InstanceSpec:
    return SPEC.model_copy(update={"config": TradingConfig.model_validate(config)})


def test_risk_beyond_the_balance_is_refused_by_name(eurusd: SymbolInfo) -> None:
    """Issue 18, attack 8: risk=150 (percent) risked 15,000 USD on a 10,000 USD account."""
    pips: dict[str, object] = {"order_type": "buy", **PIPS_20}
    refused = refusal(eurusd, SPEC, **pips, sizing="risk_percent", risk=150)
    assert (refused.field, refused.rule) == (
        "risk",
        "risking 15000.00 is more than the balance 10000.00",
    )
    assert refusal(eurusd, SPEC, **pips, sizing="risk_money", risk=10001).field == "risk"
    assert plan(eurusd, SPEC, **pips, sizing="risk_percent", risk=100)


CAPPED = [
    ({"max_volume": "0.5"}, {"volume": "0.6"}, "max_volume", "0.6 lots is more than the 0.5"),
    ({"symbols": {"EURUSD": {"max_volume": "0.5"}}}, {"volume": "0.6"}, "max_volume", "0.5"),
    ({"max_volume": "0.5"}, {"sizing": "risk_money", "risk": 200, **PIPS_20}, "max_volume", "1 "),
    ({"max_risk_percent": 1}, {"volume": "0.1"}, "max_risk_percent", "without a stop loss"),
    (
        {"max_risk_percent": 1},
        {"volume": "1", **PIPS_20},
        "max_risk_percent",
        "risking 200.00 at the stop loss is 2.00% of the balance 10000.00, more than 1%",
    ),
    (
        {"max_risk_percent": 1},
        {"sizing": "risk_percent", "risk": 2, **PIPS_20},
        "max_risk_percent",
        "2.00% of the balance",
    ),
    (
        {"symbols": {"EURUSD": {"max_risk_percent": "0.5"}}},
        {"volume": "0.5", **PIPS_20},
        "max_risk_percent",
        "1.00% of the balance 10000.00, more than 0.5%",
    ),
]


@pytest.mark.parametrize(("config", "signal", "field", "words"), CAPPED)
def test_caps_per_instance_and_symbol_refuse_by_name(
    eurusd: SymbolInfo,
    config: dict[str, object],
    signal: dict[str, object],
    field: str,
    words: str,
) -> None:
    refused = refusal(eurusd, capped(**config), order_type="buy", **signal)
    assert refused.field == field and words in refused.rule, refused


def test_orders_within_the_caps_go_and_other_symbols_keep_the_instances_cap(
    eurusd: SymbolInfo,
) -> None:
    caps = capped(max_risk_percent=1, max_volume=2, symbols={"EURUSD": {"max_volume": "0.5"}})
    within = plan(eurusd, caps, order_type="buy", volume="0.5", stop_loss=20, stops_unit="pips")
    assert within.volume == Decimal("0.5")  # type: ignore[attr-defined]  # 100 USD: 1%
    gbp = eurusd._replace(name="GBPUSD")
    [order] = plan_orders(
        Signal.model_validate({"symbol": "GBPUSD", "order_type": "buy", "volume": "1.5",
                               "stop_loss": 5, "stops_unit": "pips"}),
        caps, market(gbp), 1.0,
    )  # fmt: skip
    assert order.volume == Decimal("1.5")  # 75 USD: 0.75%, 1.5 lots within the instance's 2


def test_a_risk_cap_needs_a_known_balance(eurusd: SymbolInfo) -> None:
    signal = Signal.model_validate(
        {"symbol": "EURUSD", "order_type": "buy", "volume": "0.1", "stop_loss": "1.38"}
    )
    with pytest.raises(Refusal) as caught:
        plan_orders(signal, capped(max_risk_percent=1), market(eurusd, balance=None), 1.0)
    assert caught.value.field == "max_risk_percent"


def switch(state: TradingState, source: str = "tv") -> AlertSwitch:
    return AlertSwitch(state=state, source=source, signal_id="s", order_id="tv/o", at=1.0)


def test_an_alerts_eaoff_halts_apart_from_the_operators_state(eurusd: SymbolInfo) -> None:
    signal = Signal.model_validate({"symbol": "EURUSD", "order_type": "buy", "volume": "1"})
    for off, words in (
        (switch(TradingState.HALTED), "eaoff alert of source tv"),
        (UNREADABLE_SWITCH, "alert switch is unreadable"),
    ):
        halted = Market(eurusd, EURUSD_TICK, Decimal(10000), TradingState.ACTIVE, off)
        with pytest.raises(Refusal) as caught:
            plan_orders(signal, SPEC, halted, 1.0)
        assert caught.value.field == "trading_state" and words in caught.value.rule
    resumed = Market(
        eurusd, EURUSD_TICK, Decimal(10000), TradingState.ACTIVE, switch(TradingState.ACTIVE)
    )
    [order] = plan_orders(signal, SPEC, resumed, 1.0)
    assert order.volume == 1


def test_an_eaon_never_lifts_an_operators_halt() -> None:
    eaon = Signal.model_validate({"action": "resume", "source": "tv"})
    halted = capped(trading_state="halted")
    for spec, state, scope in ((halted, TradingState.ACTIVE, "acct-1"),
                               (SPEC, TradingState.HALTED, "global")):  # fmt: skip
        with pytest.raises(Refusal) as caught:
            plan_switch(eaon, spec, state, 1.0)
        assert caught.value.field == "trading_state"
        assert f"halted by an operator ({scope})" in caught.value.rule
    eaoff = Signal.model_validate({"action": "halt", "source": "tv", "order_id": "x"})
    off = plan_switch(eaoff, halted, TradingState.HALTED, 5.0)  # holds after the operator's
    assert (off.state, off.source, off.order_id, off.at) == (TradingState.HALTED, "tv", "tv/x", 5)
    reducing = capped(trading_state="reducing")
    assert plan_switch(eaon, reducing, TradingState.ACTIVE, 1.0).state is TradingState.ACTIVE


def test_allowed_sources_apply_to_eaoff_and_eaon() -> None:
    only_alpha = capped(allowed_sources=["alpha"])
    for action in ("halt", "resume"):
        with pytest.raises(Refusal) as caught:
            plan_switch(Signal.model_validate({"action": action, "source": "tv"}), only_alpha,
                        TradingState.ACTIVE, 1.0)  # fmt: skip
        assert caught.value.field == "source"
        signal = Signal.model_validate({"action": action, "source": "alpha"})
        assert plan_switch(signal, only_alpha, TradingState.ACTIVE, 1.0).source == "alpha"


def test_order_ids_are_scoped_to_their_source() -> None:
    """Issue 18, attack 14: ids of two sources must never meet in an instance's records."""
    ids = [
        order_id_of(
            Signal.model_validate({"action": "close_all", "order_id": "T-1", "source": source})
        )
        for source in ("alpha", "beta", "api")
    ]
    assert ids == ["alpha/T-1", "beta/T-1", "T-1"]  # the default source keeps its ids
    plain = Signal.model_validate({"action": "close_all", "source": "alpha"})
    assert order_id_of(plain) == f"alpha/{plain.signal_id}"
