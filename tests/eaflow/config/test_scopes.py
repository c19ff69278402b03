"""Scope documents: paths, values from the command line, merging and validation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from eaflow.config.scopes import (
    ConfigRefused,
    assign,
    canonical,
    effective,
    lookup,
    merge,
    parse_value,
    remove,
    validate,
)
from model import SizingMode, TradingState


def test_values_from_the_command_line() -> None:
    assert parse_value("max_open_orders", "5") == "5"
    assert parse_value("allowed_symbols", "EURUSD, XAUUSD") == ["EURUSD", "XAUUSD"]
    assert parse_value("allowed_symbols", '["EURUSD"]') == ["EURUSD"]
    assert parse_value("max_spread", "null") is None
    assert parse_value("trailing_stop", '{"enabled": true}') == {"enabled": True}
    with pytest.raises(ConfigRefused) as refused:
        parse_value("trailing_stop", "{enabled")
    assert refused.value.field == "trailing_stop"


def test_assign_and_remove_nested_paths() -> None:
    doc = assign({}, "symbols.XAUUSD.lot_size", "0.1")
    doc = assign(doc, "trailing_stop.distance", 150)
    assert doc == {"symbols": {"XAUUSD": {"lot_size": "0.1"}}, "trailing_stop": {"distance": 150}}
    assert lookup(doc, "symbols.XAUUSD.lot_size") == "0.1"
    assert remove(doc, "symbols.XAUUSD.lot_size") == {"trailing_stop": {"distance": 150}}
    assert remove(doc, "symbols.EURUSD.lot_size") == doc
    with pytest.raises(ConfigRefused) as refused:
        assign({}, "lot_sise", "1")
    assert refused.value.field == "lot_sise"
    assert "not a configuration field" in refused.value.rule


def test_instance_overrides_win_and_nested_objects_merge() -> None:
    defaults = {
        "max_open_orders": 10,
        "trailing_stop": {"enabled": True, "distance": 100},
        "trading_state": "halted",
    }
    own = {"trailing_stop": {"distance": 250}, "lot_size": "0.05"}
    config = effective(defaults, own)
    assert config.max_open_orders == 10
    assert config.trailing_stop.enabled and config.trailing_stop.distance == 250
    assert config.lot_size == Decimal("0.05")
    # the global kill switch is not inherited: each instance has its own trading state
    assert config.trading_state is TradingState.ACTIVE
    assert merge({"a": {"b": 1}}, {"a": {"c": 2}}) == {"a": {"b": 1, "c": 2}}


@pytest.mark.parametrize(
    ("document", "field", "rule"),
    [
        ({"max_open_orders": "-1"}, "max_open_orders", "greater than or equal to 0"),
        ({"lot_size": "abc"}, "lot_size", "valid decimal"),
        ({"risk_per_trade": "150"}, "risk_per_trade", "less than or equal to 100"),
        ({"sizing": "martingale"}, "sizing", "fixed"),
        (
            {"allowed_symbols": ["EURUSD"], "symbols": {"XAUUSD": {"lot_size": "1"}}},
            "symbols.XAUUSD",
            "not in allowed_symbols",
        ),
        ({"allowed_sessions": ["8:00-17:00"]}, "allowed_sessions", "HH:MM-HH:MM"),
        ({"trailing_stop": {"distance": -5}}, "trailing_stop.distance", "greater than"),
        ({"colour": "red"}, "colour", "Extra inputs"),
    ],
)
def test_refusals_name_the_field_and_rule(
    document: dict[str, object], field: str, rule: str
) -> None:
    with pytest.raises(ConfigRefused) as refused:
        validate(document)
    assert refused.value.field == field
    assert rule in refused.value.rule


def test_canonical_values_are_the_validated_spelling() -> None:
    doc = {"lot_size": "0.10", "sizing": "risk_percent", "symbols": {"XAUUSD": {"slippage": 7}}}
    config = validate(doc)
    assert config.sizing is SizingMode.RISK_PERCENT
    assert canonical(doc, config) == {
        "lot_size": "0.10",
        "sizing": "risk_percent",
        "symbols": {"XAUUSD": {"slippage": "7"}},  # pips: an exact decimal
    }
