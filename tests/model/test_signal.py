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
