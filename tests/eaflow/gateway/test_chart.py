"""The chart page, its JSON API and its live feed, from a running gateway."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson

from model import AccountState, Action, OrderStatus, PositionState
from model.trade import TradeEvent, TradeState, TradeStatus
from tests.eaflow.gateway.market import EURUSD, publish_specs, write_result, write_ticks
from tests.eaflow.gateway.served import PREFIX, Served


def put_state(served: Served, instance: str = "demo-1", ticket: int = 7) -> AccountState:
    position = PositionState(
        ticket=ticket,
        symbol="EURUSD",
        type=0,
        volume=0.1,
        price_open=1.38755,
        sl=0.0,
        tp=0.0,
        price_current=1.38742,
        profit=-1.3,
        magic=1,
        comment="",
    )
    state = AccountState(
        instance=instance,
        login=5_000_001,
        currency="USD",
        balance=10_000.0,
        equity=9_998.7,
        margin=138.76,
        margin_free=9_859.94,
        margin_level=7_205.7,
        profit=-1.3,
        positions=(position,),
        ts=time.time(),
    )
    served.client.set(f"{PREFIX}state:{instance}", state.model_dump_json())
    return state


def test_the_page_and_its_bundled_chart_library(http: httpx.Client) -> None:
    page = http.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="/static/lightweight-charts.standalone.production.js">' in page.text
    assert "https://www.tradingview.com/" in page.text
    library = http.get("/static/lightweight-charts.standalone.production.js")
    assert library.status_code == 200 and "TradingView Lightweight Charts" in library.text[:300]
    assert "Apache License" in http.get("/static/LICENSE-lightweight-charts.txt").text
    assert "TradingView, Inc." in http.get("/static/NOTICE-lightweight-charts.txt").text
    assert http.get("/static/chart.js").status_code == 200
    assert http.get("/static/candles.js").status_code == 200


def test_openapi_documents_the_http_api(http: httpx.Client) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    assert {
        "/webhook/tradingview",
        "/udf/history",
        "/udf/config",
        "/udf/symbols",
        "/udf/search",
        "/udf/time",
        "/api/state/{instance}",
        "/api/live",
    } <= set(paths)
    body = paths["/webhook/tradingview"]["post"]["requestBody"]["content"]
    assert {"application/json", "text/plain"} <= set(body)
    assert http.get("/docs").status_code == 200


def test_instances_symbols_and_state(served: Served, http: httpx.Client) -> None:
    publish_specs(served, "demo-1", "EURUSD")
    write_ticks(served, "XAUUSD", 1_700_000_040_000, [(0, 1289.056, 1290.606)])
    assert [i["instance"] for i in http.get("/api/instances").json()] == ["demo-1"]
    assert http.get("/api/symbols").json() == ["EURUSD", "XAUUSD"]
    assert http.get("/api/state/demo-1").status_code == 404
    state = put_state(served)
    assert http.get("/api/state/demo-1").json() == state.model_dump(mode="json")


def test_results_and_markers(served: Served, http: httpx.Client) -> None:
    put_state(served)
    fill = write_result(served)
    write_result(served, instance="demo-2", result_id="x@demo-2")
    write_result(
        served,
        status=OrderStatus.REJECTED,
        field="volume",
        error="volume: too big",
        result_id="r@demo-1",
    )
    sltp = write_result(
        served, action=Action.SLTP, status=OrderStatus.MODIFIED, price=None, result_id="m@demo-1"
    )
    results = http.get("/api/results", params={"instance": "demo-1"}).json()
    assert [r["result_id"] for r in results] == ["m@demo-1", "r@demo-1", fill.result_id]
    markers = http.get("/api/markers", params={"symbol": "EURUSD", "instance": "demo-1"}).json()
    assert [(m["kind"], m["shape"], m["text"]) for m in markers] == [
        ("fill", "arrowUp", "buy 0.1 @ 1.38755"),
        ("sltp", "circle", "SL/TP"),
    ]
    assert markers[0]["time"] == int(fill.done_at) and markers[1]["time"] == int(sltp.done_at)


def write_trade(
    served: Served, instance: str = "demo-1", seq: int = 1, **fields: Any
) -> TradeState:
    values: dict[str, Any] = {
        "state_id": f"{instance}:7:{seq}",
        "trade_id": 7,
        "instance": instance,
        "seq": seq,
        "event": TradeEvent.OPENED,
        "status": TradeStatus.OPEN,
        "symbol": "EURUSD",
        "side": "buy",
        "volume": 0.1,
        "entry_price": 1.38755,
        "profit": -1.3,
        "strategy": "trend",
        "opened_at": time.time(),
        "ts": time.time(),
        **fields,
    }
    trade = TradeState.model_validate(values)
    served.client.xadd(f"{PREFIX}trades", {"d": trade.model_dump_json()})
    return trade


def test_trades_newest_first(served: Served, http: httpx.Client) -> None:
    write_trade(served)
    write_trade(served, instance="demo-2")
    served.client.xadd(f"{PREFIX}trades", {"d": b"{not json"})  # skipped, never a 500
    closed = write_trade(
        served, seq=2, event=TradeEvent.CLOSED, status=TradeStatus.CLOSED, profit=4.2
    )
    found = http.get("/api/trades", params={"instance": "demo-1"}).json()
    assert [(t["state_id"], t["status"]) for t in found] == [
        (closed.state_id, "CLOSED"),
        ("demo-1:7:1", "OPEN"),
    ]
    assert found[0] == closed.model_dump(mode="json")
    assert len(http.get("/api/trades", params={"limit": 2}).json()) == 2
    assert http.get("/api/trades", params={"symbol": "XAUUSD"}).json() == []


def read_events(lines: Iterator[str], wanted: set[str], timeout: float = 10) -> dict[str, Any]:
    """The first event of each wanted name from a text/event-stream."""
    found: dict[str, Any] = {}
    name = ""
    deadline = time.monotonic() + timeout
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            found.setdefault(name, orjson.loads(line.removeprefix("data: ")))
        if wanted <= set(found) or time.monotonic() > deadline:
            break
    return found


def test_live_feed_of_ticks_results_and_state(served: Served, http: httpx.Client) -> None:
    params = {"symbol": "EURUSD", "instance": "demo-1"}
    with http.stream("GET", "/api/live", params=params) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines).startswith("retry:")
        state = put_state(served)
        # the state's event shows the reader has begun: what is written next is new to it
        events = read_events(lines, {"state"})
        [tick] = write_ticks(served, "EURUSD", int(time.time() * 1000), EURUSD[:1])
        result = write_result(served)
        write_result(served, instance="demo-2", result_id="other@demo-2")
        write_trade(served, instance="demo-2")
        trade = write_trade(served)
        events |= read_events(lines, {"tick", "result", "trade"})
    assert events["tick"] == {"time_msc": tick.time_msc, "bid": tick.bid, "ask": tick.ask}
    assert events["state"]["positions"][0]["ticket"] == state.positions[0].ticket
    assert events["result"]["result"]["result_id"] == result.result_id
    assert events["result"]["marker"]["kind"] == "fill"
    assert events["trade"] == trade.model_dump(mode="json")  # demo-1's, not demo-2's
