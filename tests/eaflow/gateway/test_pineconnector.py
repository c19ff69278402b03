"""PineConnector's documented alert lines, posted to a running gateway.

Every line below is copied from PineConnector's public syntax documentation
(docs.pineconnector.com/syntax and /cheatsheet, and the parameter list of the
Milvetti_Pineconnector_Library on TradingView), with the documentation's licence id
`60123456789` as the source. Two deliberate differences, listed in docs/alerts.md
("PineConnector → eaflow"): eaflow always needs the source's secret, so a line the
documentation gives without one gets `,secret=…` appended, and its example secret
`HappyTrader501` is replaced by the source's (eaflow's secrets have 16 characters at
least); and the EA settings PineConnector
toggles (target type, volume type, pending entry) are the source's `stops_unit`,
`volume_type` and `entry_unit`, pips / lots / price by default, as PineConnector's.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.eaflow.gateway.served import SECRET, Served

LICENCE = "60123456789"
DOCUMENTED_SECRET = "HappyTrader501"

# (line as documented, the signals it must become: the fields shown)
ACCEPTED: list[tuple[str, list[dict[str, Any]]]] = [
    # Quick sample alert messages
    ("60123456789,buy,AUDUSD,risk=0.1",
     [{"action": "open", "order_type": "buy", "symbol": "AUDUSD", "volume": "0.1"}]),
    ("60123456789,sell,GBPJPY,sl=50,risk=1",
     [{"action": "open", "order_type": "sell", "symbol": "GBPJPY", "volume": "1",
       "stop_loss": "50", "stops_unit": "pips"}]),
    ("60123456789,closelong,GBPUSD", [{"action": "close", "side": "long", "symbol": "GBPUSD"}]),
    ("60123456789, closelong , GBPUSD",
     [{"action": "close", "side": "long", "symbol": "GBPUSD"}]),
    # Explicit parameters (EA v3.51.1)
    ("60123456789,buy,AUDUSD,vol_lots=0.1",
     [{"action": "open", "order_type": "buy", "symbol": "AUDUSD", "volume": "0.1"}]),
    ("60123456789,sell,EURUSD,vol_lots=1, secret=HappyTrader501",
     [{"action": "open", "order_type": "sell", "symbol": "EURUSD", "volume": "1"}]),
    ("60123456789,sell,GBPJPY,vol_dollar=50,sl_pips=20",
     [{"action": "open", "order_type": "sell", "symbol": "GBPJPY", "sizing": "risk_money",
       "risk": "50", "stop_loss": "20", "stops_unit": "pips"}]),
    # Market orders and their aliases
    ("LicenseID,buy,EURUSD,risk=0.01".replace("LicenseID", LICENCE),
     [{"action": "open", "order_type": "buy", "symbol": "EURUSD", "volume": "0.01"}]),
    ("LicenseID,long,US30.Cash,risk=1".replace("LicenseID", LICENCE),
     [{"action": "open", "order_type": "buy", "symbol": "US30.Cash", "volume": "1"}]),
    *(
        (f"{LICENCE},{alias},EURUSD,risk=1",
         [{"action": "open", "order_type": side, "symbol": "EURUSD", "volume": "1"}])
        for alias, side in (("bull", "buy"), ("bullish", "buy"), ("short", "sell"),
                            ("bear", "sell"), ("bearish", "sell"))
    ),
    # Pending orders: price= is a price by default (the EA's "specified price" setting)
    ("60123456789,buylimit,EURUSD,risk=1,price=1.158",
     [{"action": "open", "order_type": "buy_limit", "symbol": "EURUSD", "price": "1.158",
       "volume": "1"}]),
    # sl= / tp= in pips (the recommended target type), comments
    ("60123456789,buy,EURUSD,risk=1,sl=25,tp=50,comment=\"strategy 1\"",
     [{"action": "open", "order_type": "buy", "symbol": "EURUSD", "stop_loss": "25",
       "take_profit": "50", "stops_unit": "pips", "comment": "strategy 1"}]),
    ("60123456789,buy,EURUSD,risk=1,comment=\"hello\"",
     [{"action": "open", "order_type": "buy", "comment": "hello"}]),
    # Exits
    ("60123456789,closeshort,EURUSD", [{"action": "close", "side": "short", "symbol": "EURUSD"}]),
    ("60123456789,closelongshort,EURUSD", [{"action": "close", "symbol": "EURUSD"}]),
    ("60123456789,closeall,EURUSD", [{"action": "close_all", "symbol": "EURUSD"}]),
    ("60123456789,closealleaoff,EURUSD",
     [{"action": "close_all", "symbol": "EURUSD"}, {"action": "halt"}]),
    ("60123456789,closelongbuy,EURUSD,risk=1",
     [{"action": "close", "side": "long", "symbol": "EURUSD"},
      {"action": "open", "order_type": "buy", "symbol": "EURUSD", "volume": "1"}]),
    ("60123456789,closeshortsell,EURUSD,risk=1",
     [{"action": "close", "side": "short", "symbol": "EURUSD"},
      {"action": "open", "order_type": "sell", "symbol": "EURUSD", "volume": "1"}]),
    ("60123456789,cancellong,EURUSD", [{"action": "cancel", "side": "long", "symbol": "EURUSD"}]),
    # newsltp…: new SL/TP as distances from the current price, in the target type's pips
    ("60123456789,newsltplong,EURUSD,sl=20,tp=40",
     [{"action": "sltp", "side": "long", "symbol": "EURUSD", "stop_loss": "20",
       "take_profit": "40", "stops_unit": "pips"}]),
    ("60123456789,newsltpshort,EURUSD,sl=20",
     [{"action": "sltp", "side": "short", "symbol": "EURUSD", "stop_loss": "20",
       "stops_unit": "pips"}]),
    # Spread filter (pips) and account filter (balance above)
    ("60123456789,buy,EURUSD,risk=1,spread=2",
     [{"action": "open", "order_type": "buy", "max_spread_pips": "2"}]),
    ("60123456789,buy,EURUSD,risk=1,accfilter=1000",
     [{"action": "open", "order_type": "buy", "min_balance": "1000"}]),
    # Breakeven and pips trailing, riding with the position (in pips)
    ("60123456789,buy,EURUSD,risk=1,betrigger=20,beoffset=1",
     [{"action": "open", "order_type": "buy",
       "trailing": {"distance": "0", "step": "0", "activation": "0", "breakeven_trigger": "20",
                    "breakeven_offset": "1", "unit": "pips"}}]),
    ("60123456789,buy,EURUSD,risk=1,trtrig=20,trdist=10,trstep=2",
     [{"action": "open", "order_type": "buy",
       "trailing": {"distance": "10", "step": "2", "activation": "20", "breakeven_trigger": "0",
                    "breakeven_offset": "0", "unit": "pips"}}]),
    # The EA switch
    ("60123456789,eaoff", [{"action": "halt"}]),
    ("60123456789,eaon", [{"action": "resume"}]),
]  # fmt: skip

# Documented parameters eaflow refuses, naming them: it computes no ATR from bars, the
# alert carries the ATR's value instead (atr=, docs/alerts.md)
REFUSED: list[tuple[str, str]] = [
    ("60123456789,buy,EURUSD,risk=1,atrperiod=14,atrmultiplier=2,atrtrigger=1", "atrperiod"),
    ("60123456789,buy,EURUSD,risk=1,atrtimeframe=60", "atrtimeframe"),
]


def post(http: httpx.Client, line: str) -> httpx.Response:
    body = line.replace(DOCUMENTED_SECRET, SECRET)
    body = body if "secret=" in body else f"{body},secret={SECRET}"
    return http.post("/webhook/tradingview", content=body, headers={"Content-Type": "text/plain"})


@pytest.fixture
def licence(served: Served) -> Served:
    served.add_source(name=LICENCE)
    return served


@pytest.mark.parametrize(("line", "expected"), ACCEPTED, ids=[line for line, _ in ACCEPTED])
def test_a_documented_line_becomes_its_signals(
    licence: Served, http: httpx.Client, line: str, expected: list[dict[str, Any]]
) -> None:
    response = post(http, line)
    assert response.status_code == 200, response.text
    written = licence.signals()
    assert len(written) == len(expected)
    for actual, wanted in zip(written, expected, strict=True):
        assert {k: actual.get(k) for k in wanted} == wanted
        assert actual["source"] == LICENCE


@pytest.mark.parametrize(("line", "field"), REFUSED, ids=[line for line, _ in REFUSED])
def test_atr_settings_are_refused_by_name(
    licence: Served, http: httpx.Client, line: str, field: str
) -> None:
    response = post(http, line)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert "atr=" in response.json()["error"]
    assert licence.signals() == []


def test_atr_trailing_is_a_price_distance_from_the_alerts_atr(
    licence: Served, http: httpx.Client
) -> None:
    response = post(http, f"{LICENCE},buy,EURUSD,risk=1,atr=0.0012,atrmultiplier=2,atrtrigger=1")
    assert response.status_code == 200, response.text
    [signal] = licence.signals()
    assert signal["trailing"] == {
        "distance": "0.0024", "step": "0", "activation": "0.0012", "breakeven_trigger": "0",
        "breakeven_offset": "0", "unit": "price",
    }  # fmt: skip


def test_the_eas_settings_are_the_sources(served: Served, http: httpx.Client) -> None:
    """`price=10` and `sl=1` as PineConnector's EA reads them when set to pips from the
    current price and to percentage: the source's `entry_unit` and `stops_unit`."""
    served.add_source(name=LICENCE, entry_unit="pips", stops_unit="percent")
    response = post(http, "60123456789,buylimit,EURUSD,risk=1,price=10,sl=1,tp=2.5")
    assert response.status_code == 200, response.text
    [signal] = served.signals()
    assert {k: signal[k] for k in ("price", "price_unit", "stop_loss", "take_profit")} == {
        "price": "10", "price_unit": "pips", "stop_loss": "1", "take_profit": "2.5",
    }  # fmt: skip
    assert signal["stops_unit"] == "percent"
