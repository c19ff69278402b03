"""Signal validation: each refusal names the field and the rule."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from model import Signal, refusal_of


def refused(**body: object) -> tuple[str, str]:
    with pytest.raises(ValidationError) as caught:
        Signal.model_validate(body)
    return refusal_of(caught.value)


def test_the_seed_trade_request_is_a_signal() -> None:
    signal = Signal.model_validate_json(
        '{"order_id": "t-1", "symbol": "EURUSD", "volume": 0.1, "order_type": "buy",'
        ' "price": 1.0912, "stop_loss": 1.0890, "take_profit": 1.0950}'
    )
    assert signal.volume == Decimal("0.1") and signal.price == Decimal("1.0912")
    assert signal.effective_order_id == "t-1"
    assert "secret" not in signal.model_dump_json()


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"symbol": "EURUSD", "order_type": "buy", "volume": 0}, "volume", "greater than 0"),
        ({"symbol": "EURUSD", "order_type": "hold"}, "order_type", "Input should be"),
        ({"order_type": "buy"}, "symbol", "required for action open"),
        ({"symbol": "EURUSD"}, "order_type", "required for action open"),
        ({"symbol": "EURUSD", "order_type": "buy_limit"}, "price", "required for a buy_limit"),
        ({"symbol": "EURUSD", "order_type": "buy", "lots": 1}, "lots", "Extra inputs"),
        ({"symbol": "EURUSD", "order_type": "buy", "sizing": "risk_percent"}, "risk", "required"),
        ({"symbol": "EURUSD", "order_type": "buy", "volume": "NaN"}, "volume", "finite"),
        # found by fuzzing: 1e23 on a 1e-5 tick needed 29 digits and raised in the router
        ({"symbol": "EURUSD", "order_type": "buy_limit", "price": 1e23}, "price", "1E+12"),
        ({"symbol": "EURUSD", "order_type": "buy", "stop_loss": "1e13"}, "stop_loss", "1E+12"),
        ({"symbol": "EURUSD", "order_type": "buy", "instances": ["a b"]}, "instances.0", "match"),
    ],
)
def test_refusals(body: dict[str, object], field: str, words: str) -> None:
    got_field, rule = refused(**body)
    assert got_field == field
    assert words in rule


DESIGN_TRADE_REQUEST = (
    '{"order_id": "UUID", "symbol": "EURUSD", "volume": 1.0, "order_type": "BUY",'
    ' "price": 1.12345, "stop_loss": 1.12000, "take_profit": 1.12500}'
)
"""The original design's trade request model, exactly as it writes it."""


def test_the_design_trade_request_is_a_signal_in_any_case() -> None:
    signal = Signal.model_validate_json(DESIGN_TRADE_REQUEST)
    assert (signal.order_type, signal.order_id, signal.volume) == ("buy", "UUID", Decimal("1.0"))
    for written, read in (("Buy", "buy"), ("BUY_LIMIT", "buy_limit"), ("Sell-Stop", "sell_stop")):
        body = {"symbol": "EURUSD", "order_type": written, "price": 1.1}
        assert Signal.model_validate(body).order_type == read
    assert Signal.model_validate({"action": "CLOSE", "side": "LONG"}).side == "long"
    assert refused(symbol="EURUSD", order_type="BUYY")[0] == "order_type"


def test_expiration_is_a_time_an_iso_time_or_a_duration() -> None:
    base = {"symbol": "EURUSD", "order_type": "buy_limit", "price": 1.1, "created_at": 1000.0}
    assert Signal.model_validate({**base, "expiration": "90m"}).expiration == 1000 + 5400
    assert Signal.model_validate({**base, "expiration": "1d"}).expiration == 1000 + 86400
    iso = Signal.model_validate({**base, "expiration": "2026-05-06T17:00:00Z"})
    assert iso.expiration == 1778086800 and iso.type_time is None
    day = Signal.model_validate({**base, "type_time": "DAY"})
    assert (day.type_time, day.expiration) == ("day", None)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"order_type": "buy", "expiration": "4h"}, "expiration", "pending orders only"),
        ({"order_type": "buy_limit", "price": 1, "expiration": "soon"}, "expiration", "duration"),
        (
            {"order_type": "buy_limit", "price": 1, "type_time": "specified"},
            "expiration",
            "required",
        ),
        (
            {"order_type": "buy_limit", "price": 1, "type_time": "gtc", "expiration": "1h"},
            "expiration",
            "takes none",
        ),
        (
            {"order_type": "buy_limit", "price": 1, "expiration": 5, "created_at": 10},
            "expiration",
            "past",
        ),
        ({"order_type": "buy", "price": 20, "price_unit": "pips"}, "price", "pending order"),
        (
            {"order_type": "buy_stop_limit", "price": 20, "stop_limit": 10, "price_unit": "pips"},
            "price_unit",
            "takes prices",
        ),
        ({"order_type": "buy", "trailing": {"distance": 5, "unit": "percent"}}, "trailing", "unit"),
        ({"order_type": "buy", "trailing": {"step": 5}}, "trailing", "distance or a break-even"),
        ({"action": "close", "trailing": {"distance": 5}}, "trailing", "action open"),
        ({"action": "close", "close_percent": 150}, "close_percent", "less than or equal to 100"),
        ({"action": "close", "close_percent": 50, "volume": 1}, "close_percent", "not both"),
        ({"action": "sltp", "close_percent": 50}, "close_percent", "close only"),
        (
            {
                "order_type": "buy",
                "take_profits": [
                    {"take_profit": 10, "share": 60},
                    {"take_profit": 20, "share": 30},
                ],
            },
            "take_profits",
            "90%",
        ),
        (
            {
                "order_type": "buy",
                "take_profits": [{"take_profit": 10, "share": 60}, {"take_profit": 20}],
            },
            "take_profits",
            "every level",
        ),
        (
            {
                "order_type": "buy",
                "take_profit": 5,
                "take_profits": [{"take_profit": 10}, {"take_profit": 20}],
            },
            "take_profits",
            "not both",
        ),
        ({"order_type": "buy", "take_profits": [{"take_profit": 10}]}, "take_profits", "2 to 10"),
        ({"order_type": "buy", "strategy": "x" * 19}, "strategy", "at most 18 characters"),
        ({"order_type": "buy", "strategy": "café"}, "strategy", "pattern"),
    ],
)
def test_refusals_of_the_new_fields(body: dict[str, object], field: str, words: str) -> None:
    found, rule = refused(symbol="EURUSD", **body)
    assert found.split(".")[0] == field and words in rule, (found, rule)
