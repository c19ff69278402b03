"""Sources of an instance's values: its scope, the global scope or the default, per path."""

from __future__ import annotations

import pytest

from eaflow.config.scopes import ConfigRefused
from eaflow.config.sources import fields


def test_symbol_overrides_list_only_what_a_scope_sets_merged_key_by_key() -> None:
    global_doc = {"symbols": {"XAUUSD": {"max_spread": 9}}, "trailing_stop": True}
    own = {
        "symbols": {
            "XAUUSD": {"lot_size": "0.1", "trailing_stop": {"distance": 5}},
            "EURUSD": {"trailing_stop": True, "pyramiding": None},
        },
        "trailing_stop": {"distance": 40},
        "symbol_map": {"GOLD": "XAUUSD"},
    }
    found = {f.path: (f.value, f.source) for f in fields(global_doc, own)}
    assert {p: v for p, v in found.items() if p.startswith("symbols.")} == {
        "symbols.XAUUSD.lot_size": ("0.1", "instance"),
        "symbols.XAUUSD.max_spread": (9, "global"),
        "symbols.XAUUSD.trailing_stop.distance": (5, "instance"),
        "symbols.EURUSD.trailing_stop.enabled": (True, "instance"),
    }
    assert found["trailing_stop.enabled"] == (True, "global")  # the shorthand sets it only
    assert found["trailing_stop.distance"] == (40, "instance")
    assert found["symbol_map.GOLD"] == ("XAUUSD", "instance")


def test_a_symbols_points_drop_the_inherited_pips_at_that_level_only() -> None:
    global_doc = {"slippage": "2", "symbols": {"XAUUSD": {"slippage": "3"}}}
    own = {"symbols": {"XAUUSD": {"slippage_points": 30}}}
    found = {f.path: (f.value, f.source) for f in fields(global_doc, own)}
    assert found["slippage"] == ("2", "global")
    assert "symbols.XAUUSD.slippage" not in found
    assert found["symbols.XAUUSD.slippage_points"] == (30, "instance")


def test_documents_that_make_no_valid_configuration_are_refused() -> None:
    with pytest.raises(ConfigRefused) as refused:
        fields({}, {"max_open_orders": -1})
    assert refused.value.field == "max_open_orders"
