"""JSON bodies: names through aliases and wrappers, what is ignored, what is refused."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import orjson
import pytest

from eaflow.gateway.alerts import AlertError, Defaults, read_body, signals
from model import Action, OrderType, Side, StopsUnit


def read(body: Any) -> tuple[list[dict[str, Any]], list[str]]:
    found: list[dict[str, Any]] = []
    ignored: list[str] = []
    for draft in read_body(orjson.dumps(body)):
        made, skipped = signals(draft, Defaults())
        found += made
        ignored += skipped
    return found, ignored


def test_wrappers_hyphens_and_case() -> None:
    [signal], ignored = read(
        {
            "data": {
                "Strategy-Order-Action": "SELL",
                "Ticker": "EUR/USD",
                "strategy-order-contracts": "0.3",
            },
            "general": {"interval": "60", "nonce": "n-1"},
        }
    )
    assert signal == {
        "action": Action.OPEN,
        "order_type": OrderType.SELL,
        "symbol": "EURUSD",
        "volume": D("0.3"),
    }
    assert ignored == ["general.nonce"]


def test_informational_fields_are_ignored_silently() -> None:
    _, ignored = read(
        {
            "action": "buy",
            "symbol": "EURUSD",
            "time": "t",
            "exchange": "FX",
            "bar": {"close": 1.2, "volume": 9},
            "close": 1.08,
            "heartbeat": False,
        }
    )
    assert ignored == []


def test_action_and_side_combine() -> None:
    [signal], _ = read({"action": "close", "side": "short", "symbol": "EURUSD"})
    assert (signal["action"], signal["side"]) == (Action.CLOSE, Side.SHORT)
    [signal], _ = read(
        {"action": "open", "order_type": "buy_stop", "symbol": "EURUSD", "price": 1.1}
    )
    assert signal["order_type"] is OrderType.BUY_STOP
    [signal], _ = read({"side": "sell", "type": "limit", "symbol": "EURUSD", "price": "1.1"})
    assert signal["order_type"] is OrderType.SELL_LIMIT


def test_close_all_and_an_account() -> None:
    [signal], _ = read([{"symbol": "BTCUSDm", "account": "116437666", "close": "all"}])
    assert signal == {"action": Action.CLOSE_ALL, "symbol": "BTCUSDm", "instances": ("116437666",)}


def test_units_in_the_name() -> None:
    [signal], _ = read(
        {"action": "buy", "symbol": "EURUSD", "stop_loss_percent": "0.5", "take_profit_percent": 1}
    )
    assert (signal["stops_unit"], signal["stop_loss"]) == (StopsUnit.PERCENT, D("0.5"))


def test_the_order_name_becomes_the_comment() -> None:
    [signal], _ = read(
        {"action": "buy", "symbol": "EURUSD", "strategy": {"order_id": "Long Entry"}}
    )
    assert signal["comment"] == "Long Entry" and "order_id" not in signal


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "buy", "symbol": "EURUSD", "stoplos": 1.0}, "stoplos"),
        ({"action": "buy", "symbol": "EURUSD", "trailing_stop": 30}, "trailing_stop"),
        ({"action": "buy", "symbol": "EURUSD", "ticker": "GBPUSD"}, "ticker"),
        ({"action": "buy", "side": "sell", "symbol": "EURUSD"}, "action"),
        ({"action": "buy", "symbol": "EURUSD", "stops_unit": "furlongs", "sl": 1}, "stops_unit"),
        ({"action": "hodl", "symbol": "EURUSD"}, "action"),
        ({"signals": [{"action": "buy"}], "extra": 1}, "extra"),
        ({"a": {"b": {"c": {"d": {"e": 1}}}}}, "a.b.c.d"),
    ],
)
def test_refusals(body: Any, field: str) -> None:
    with pytest.raises(AlertError) as refused:
        read(body)
    assert refused.value.field == field


def test_body_shapes_refused_as_malformed() -> None:
    for body in (b"", b"   ", b"[]", b"123", b'"buy"', b"\xff\xfe", b"{\x00}", b"[1, 2]"):
        with pytest.raises(AlertError) as refused:
            read_body(body)
        assert refused.value.status == 400, body


def test_at_most_max_signals() -> None:
    with pytest.raises(AlertError, match="at most 2"):
        read_body(orjson.dumps([{"action": "buy"}] * 3), max_signals=2)
