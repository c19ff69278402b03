"""Real symbol specifications for the router's unit tests (quotes: tests/stubs.py)."""

from __future__ import annotations

import pytest

from brokers.mt5.records import SymbolInfo
from brokers.sim.symbols import default_symbols


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
