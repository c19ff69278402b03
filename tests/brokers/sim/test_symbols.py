"""Bundled symbol specs and the currency paths between them."""

from __future__ import annotations

import json
from pathlib import Path

from brokers.mt5.records import SymbolInfo
from brokers.sim.symbols import Leg, SymbolTable, default_symbols, with_quote
from tests.brokers.sim.conftest import EURUSD_OPEN, make_tick

DUMPS = Path(__file__).parents[2] / "data" / "mt5" / "mt5_symbol_info_dumps.json"
SPECS = ("digits", "point", "trade_contract_size", "volume_min", "volume_step", "filling_mode")


def test_the_bundled_symbols() -> None:
    names = [info.name for info in default_symbols()]
    assert names == ["EURUSD", "GBPUSD", "USDJPY", "EURJPY", "EURCAD", "NZDUSD", "XAUUSD"]


def test_dumped_symbols_keep_their_real_specs() -> None:
    for dump in json.loads(DUMPS.read_text())["dumps"]:
        real = SymbolInfo(**dump["info"])
        ours = default_symbols().get(real.name)
        assert ours is not None
        assert [getattr(ours, f) for f in SPECS] == [getattr(real, f) for f in SPECS]
        assert (ours.trade_calc_mode, ours.trade_exemode, ours.currency_margin) == (
            real.trade_calc_mode,
            real.trade_exemode,
            real.currency_margin,
        )
        assert ours.bid == ours.ask == ours.trade_tick_value == 0.0  # quotes are filled live


def test_gold_is_a_three_digit_cfd_of_100_ounces() -> None:
    gold = default_symbols().get("XAUUSD")
    assert gold is not None
    assert (gold.digits, gold.point, gold.trade_contract_size, gold.trade_calc_mode) == (
        3,
        0.001,
        100.0,
        4,
    )
    assert (gold.currency_base, gold.currency_profit, gold.currency_margin) == ("XAU", "USD", "USD")


def test_conversion_paths() -> None:
    table = default_symbols()
    assert table.path("USD", "USD") == ()
    assert table.path("JPY", "USD") == (Leg("USDJPY", multiply=False),)
    assert table.path("EUR", "USD") == (Leg("EURUSD", multiply=True),)
    assert table.path("CAD", "USD") == (Leg("EURCAD", False), Leg("EURUSD", True))
    assert table.path("USD", "CHF") is None
    assert table.quote_symbols("EURJPY", "USD") == ("EURJPY", "USDJPY", "EURUSD")
    assert table.quote_symbols("EURUSD", "EUR") == ("EURUSD",)


def test_a_table_of_edited_specs() -> None:
    base = default_symbols()
    eurusd = base.get("EURUSD")
    assert eurusd is not None
    table = SymbolTable([eurusd._replace(trade_stops_level=10)])
    assert "EURUSD" in table and "USDJPY" not in table
    assert [i.trade_stops_level for i in table] == [10]


def test_with_quote_fills_the_latest_tick() -> None:
    eurusd = default_symbols().get("EURUSD")
    assert eurusd is not None
    quoted = with_quote(eurusd, make_tick(EURUSD_OPEN), (1.0, 1.0))
    assert (quoted.bid, quoted.ask, quoted.time, quoted.spread) == (
        1.38742,
        1.38755,
        1399334400,
        13,
    )
    assert quoted.trade_tick_value == 1.0
    assert with_quote(eurusd, None, (0.0, 0.0)).bid == 0.0
