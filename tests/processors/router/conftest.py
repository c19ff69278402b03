"""Real symbol specifications and recorded prices for the router's unit tests."""

from __future__ import annotations

import pytest

from brokers.mt5.records import SymbolInfo
from brokers.sim.symbols import default_symbols
from model.tick import Tick

# EURUSD, 2014-05-06 00:00:00.158 UTC (Lean/OANDA recording)
EURUSD_TICK = Tick(
    time=1399334400,
    bid=1.38742,
    ask=1.38755,
    last=0.0,
    volume=0,
    time_msc=1399334400158,
    flags=6,
    volume_real=0.0,
)
# XAUUSD, 2014-05-11 22:00:00.976 UTC, the Sunday open's wide spread
XAUUSD_TICK = Tick(
    time=1399845600,
    bid=1289.056,
    ask=1290.606,
    last=0.0,
    volume=0,
    time_msc=1399845600976,
    flags=6,
    volume_real=0.0,
)


@pytest.fixture
def eurusd() -> SymbolInfo:
    info = default_symbols().get("EURUSD")
    assert info is not None
    return info._replace(trade_tick_value=1.0)  # USD account: 1 point of 1 lot = 1 USD


@pytest.fixture
def xauusd() -> SymbolInfo:
    info = default_symbols().get("XAUUSD")
    assert info is not None
    return info
