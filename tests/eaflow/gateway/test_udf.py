"""The UDF datafeed answers in the shapes the UDF spec defines, with bars of our ticks."""

from __future__ import annotations

import time
from typing import Any

import httpx

from eaflow.gateway.bars import RESOLUTIONS
from tests.eaflow.gateway.market import EURUSD, publish_specs, write_ticks
from tests.eaflow.gateway.served import Served

START = 1_700_000_040_000  # ms, on a minute boundary


def expected_bars(ticks: list[tuple[int, float]], seconds: int) -> dict[str, list[Any]]:
    """An independent computation: group by bar start, then take first/max/min/last/count."""
    groups: dict[int, list[float]] = {}
    for msc, bid in ticks:
        groups.setdefault(msc // 1000 // seconds * seconds, []).append(bid)
    starts = sorted(groups)
    return {
        "t": starts,
        "o": [groups[s][0] for s in starts],
        "h": [max(groups[s]) for s in starts],
        "l": [min(groups[s]) for s in starts],
        "c": [groups[s][-1] for s in starts],
        "v": [len(groups[s]) for s in starts],
    }


def test_config(http: httpx.Client) -> None:
    config = http.get("/udf/config").json()
    assert config["supported_resolutions"] == list(RESOLUTIONS)
    assert config["supports_search"] is True and config["supports_group_request"] is False
    assert config["supports_time"] is True
    assert {"value", "name", "desc"} <= set(config["exchanges"][0])


def test_time_is_plain_unix_seconds(http: httpx.Client) -> None:
    response = http.get("/udf/time")
    assert response.headers["content-type"].startswith("text/plain")
    assert abs(int(response.text) - time.time()) < 5


def test_symbols_from_specs_and_from_tick_streams(served: Served, http: httpx.Client) -> None:
    publish_specs(served, "demo-1", "EURUSD", "XAUUSD")
    write_ticks(served, "NZDUSD", START, [(0, 0.86834, 0.86858)])
    eurusd = http.get("/udf/symbols", params={"symbol": "EAFLOW:EURUSD"}).json()
    assert eurusd["name"] == eurusd["ticker"] == "EURUSD"
    assert (eurusd["pricescale"], eurusd["minmov"], eurusd["type"]) == (100000, 1, "forex")
    assert eurusd["has_intraday"] is True and eurusd["session"] == "24x7"
    assert eurusd["supported_resolutions"] == list(RESOLUTIONS)
    assert http.get("/udf/symbols", params={"symbol": "XAUUSD"}).json()["pricescale"] == 1000
    assert http.get("/udf/symbols", params={"symbol": "NZDUSD"}).json()["pricescale"] == 100000
    assert http.get("/udf/symbols", params={"symbol": "NOPE"}).json() == {
        "s": "error",
        "errmsg": "unknown_symbol",
    }


def test_search(served: Served, http: httpx.Client) -> None:
    publish_specs(served, "demo-1", "EURUSD", "EURJPY", "XAUUSD")
    found = http.get("/udf/search", params={"query": "eur", "limit": 10}).json()
    assert [f["symbol"] for f in found] == ["EURJPY", "EURUSD"]
    assert set(found[0]) == {"symbol", "full_name", "description", "exchange", "ticker", "type"}
    assert http.get("/udf/search", params={"query": "eur", "limit": 1}).json() == found[:1]


def test_history_bars_match_an_independent_computation(served: Served, http: httpx.Client) -> None:
    ticks = write_ticks(served, "EURUSD", START, EURUSD)
    pairs = [(t.time_msc, t.bid) for t in ticks]
    for resolution, seconds in (("1S", 1), ("5S", 5), ("1", 60)):
        reply = http.get(
            "/udf/history",
            params={
                "symbol": "EURUSD",
                "resolution": resolution,
                "from": START // 1000,
                "to": START // 1000 + 60,
            },
        )
        assert reply.json() == {"s": "ok", **expected_bars(pairs, seconds)}


def test_history_window_countback_and_no_data(served: Served, http: httpx.Client) -> None:
    write_ticks(served, "EURUSD", START, EURUSD)
    base = START // 1000
    window = http.get(
        "/udf/history",
        params={"symbol": "EURUSD", "resolution": "1S", "from": base + 3, "to": base + 10},
    ).json()
    assert window["t"] == [base + 3, base + 9]
    last_two = http.get(
        "/udf/history",
        params={
            "symbol": "EURUSD",
            "resolution": "1S",
            "from": base,
            "to": base + 10,
            "countback": 2,
        },
    ).json()
    assert last_two["t"] == [base + 3, base + 9]
    later = http.get(
        "/udf/history",
        params={"symbol": "EURUSD", "resolution": "1S", "from": base + 100, "to": base + 200},
    ).json()
    assert later == {"s": "no_data", "nextTime": base + 15}
    earlier = http.get(
        "/udf/history",
        params={"symbol": "EURUSD", "resolution": "1S", "from": base - 100, "to": base - 50},
    ).json()
    assert earlier == {"s": "no_data"}


def test_history_errors(http: httpx.Client) -> None:
    bad = http.get(
        "/udf/history", params={"symbol": "EURUSD", "resolution": "7X", "from": 0, "to": 1}
    ).json()
    assert bad["s"] == "error" and "resolution" in bad["errmsg"]
    missing = http.get("/udf/history", params={"symbol": "EURUSD"})
    assert missing.status_code == 422 and missing.json()["field"] == "resolution"
