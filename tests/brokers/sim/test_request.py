"""Request dicts: refused field by field before they reach the server, like the package does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from brokers.mt5.records import TradeRequest
from brokers.sim.request import RequestError, parse_request, unix_seconds


def test_a_full_request() -> None:
    raw: dict[str, Any] = {
        "action": 1, "magic": 234000, "order": 0, "symbol": "USDJPY", "volume": 0.1,
        "price": 108.018, "stoplimit": 0.0, "sl": 0.0, "tp": 0.0, "deviation": 20, "type": 1,
        "type_filling": 2, "type_time": 0, "expiration": 0, "comment": "python script close",
        "position": 557416535, "position_by": 0,
    }  # fmt: skip
    assert parse_request(raw) == TradeRequest(**raw)


def test_missing_fields_are_zero_and_ints_are_numbers() -> None:
    req = parse_request({"action": 1, "symbol": "EURUSD", "volume": 1, "type": 0})
    assert (req.volume, req.price, req.comment, req.position) == (1.0, 0.0, "", 0)
    assert isinstance(req.volume, float)


def test_a_trade_request_passes_through() -> None:
    req = TradeRequest(action=5, symbol="EURUSD", volume=0.1, price=1.1)
    assert parse_request(req) == req


def test_comment_is_cut_to_31_characters() -> None:
    assert parse_request({"comment": "x" * 40}).comment == "x" * 31


def test_expiration_may_be_a_datetime() -> None:
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_request({"expiration": moment}).expiration == int(moment.timestamp())
    assert unix_seconds(datetime(2030, 1, 2, 3, 4, 5)) == int(moment.timestamp())  # naive = UTC
    plus_one = datetime(2030, 1, 2, 4, 4, 5, tzinfo=timezone(timedelta(hours=1)))
    assert unix_seconds(plus_one) == int(moment.timestamp())


@pytest.mark.parametrize(
    ("raw", "field", "rule"),
    [
        ({"volume": "0.1"}, "volume", "expected a number"),
        ({"volume": True}, "volume", "got bool"),
        ({"price": float("nan")}, "price", "expected a number"),
        ({"action": 1.0}, "action", "non-negative integer"),
        ({"magic": -5}, "magic", "non-negative integer"),
        ({"symbol": 7}, "symbol", "expected a string"),
        ({"lots": 1}, "lots", "not a trade request field"),
    ],
)
def test_malformed_fields_are_named(raw: dict[str, object], field: str, rule: str) -> None:
    with pytest.raises(RequestError, match=rule) as failed:
        parse_request(raw)
    assert failed.value.field == field
    assert str(failed.value).startswith(f'Invalid "{field}" argument')


def test_not_a_dict() -> None:
    with pytest.raises(RequestError, match="expected a dict"):
        parse_request([("action", 1)])  # type: ignore[arg-type]
