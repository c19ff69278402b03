"""MT5's margin and profit formulas and the conversion rule of tick values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from brokers.mt5.records import SymbolInfo
from brokers.sim.margin import PricingError, convert, margin, profit, tick_values, to_account
from brokers.sim.symbols import Leg, default_symbols
from model.tick import Tick

DUMPS = Path(__file__).parents[2] / "data" / "mt5" / "mt5_symbol_info_dumps.json"


def spec(name: str) -> SymbolInfo:
    info = default_symbols().get(name)
    assert info is not None
    return info


def test_margin_by_calc_mode() -> None:
    eurusd = spec("EURUSD")
    assert margin(eurusd, 0.1, 1.1, 100) == pytest.approx(100.0)  # Forex: in EUR
    assert margin(eurusd._replace(trade_calc_mode=5), 0.1, 1.1, 100) == pytest.approx(10_000.0)
    assert margin(eurusd._replace(trade_calc_mode=2), 0.1, 1.1, 100) == pytest.approx(11_000.0)
    assert margin(spec("XAUUSD"), 0.5, 1290.606, 100) == pytest.approx(645.303)  # CFD leverage
    futures = eurusd._replace(trade_calc_mode=1, margin_initial=2500.0)
    assert margin(futures, 2, 1.1, 100) == 5000.0
    with pytest.raises(PricingError, match="trade_calc_mode 32"):
        margin(eurusd._replace(trade_calc_mode=32), 1, 1.1, 100)


def test_profit_is_in_the_profit_currency() -> None:
    usdjpy = spec("USDJPY")
    assert profit(usdjpy, True, 1.0, 108.183, 108.483) == pytest.approx(30_000.0)
    assert profit(usdjpy, False, 1.0, 108.183, 108.483) == pytest.approx(-30_000.0)


def test_tick_values_match_a_real_eur_account_dump() -> None:
    """EURUSD on an EUR account: one point of one lot is 1 USD = 1/ask EUR as a gain."""
    dump = json.loads(DUMPS.read_text())["dumps"][0]["info"]
    tick = Tick(time=dump["time"], bid=dump["bid"], ask=dump["ask"])
    gain, loss = tick_values(spec("EURUSD"), "EUR", default_symbols(), {"EURUSD": tick})
    assert gain == pytest.approx(dump["trade_tick_value_profit"])
    assert loss == pytest.approx(dump["trade_tick_value_loss"])


def test_conversion_takes_the_cautious_side() -> None:
    tick = Tick(time=0, bid=1.25, ask=1.26)
    legs = [Leg("EURUSD", multiply=True)]
    assert convert(100.0, legs, {"EURUSD": tick}) == 125.0  # a gain at the bid
    assert convert(-100.0, legs, {"EURUSD": tick}) == -126.0  # a loss at the ask
    assert convert(100.0, legs, {"EURUSD": tick}, cost=True) == 126.0  # margin at the ask
    assert convert(100.0, legs, {}) is None


def test_to_account_through_two_symbols() -> None:
    ticks = {"EURCAD": Tick(0, 1.5, 1.5), "EURUSD": Tick(0, 1.2, 1.2)}
    cad = to_account(150.0, "CAD", "USD", default_symbols(), ticks)
    assert cad == pytest.approx(120.0)  # 150 CAD / 1.5 = 100 EUR x 1.2
    with pytest.raises(PricingError, match="CHF"):
        to_account(1.0, "CHF", "USD", default_symbols(), ticks)
