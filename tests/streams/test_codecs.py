"""Codecs: JSON through orjson, models through pydantic; refusals name the field."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field

from streams import DecodeError, JsonCodec, ModelCodec, Poison


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str
    volume: float = Field(gt=0)
    comment: str = ""


def test_json_round_trip() -> None:
    codec = JsonCodec()
    value = {"symbol": "EURUSD", "volume": 0.1, "tags": [1, 2]}
    assert codec.encode(value) == b'{"symbol":"EURUSD","volume":0.1,"tags":[1,2]}'
    assert codec.decode(codec.encode(value)) == value


def test_json_refuses_bad_bytes() -> None:
    with pytest.raises(DecodeError, match="d: is not valid JSON"):
        JsonCodec().decode(b"{nope")


def test_model_round_trip() -> None:
    codec = ModelCodec(Order)
    order = Order(symbol="EURUSD", volume=0.1)
    assert codec.decode(codec.encode(order)) == order
    assert repr(codec) == "ModelCodec(Order)"


def test_model_refusal_names_the_field_and_rule() -> None:
    with pytest.raises(DecodeError, match="volume: Input should be greater than 0"):
        ModelCodec(Order).decode(b'{"symbol": "EURUSD", "volume": 0}')


def test_decode_errors_are_poison() -> None:
    assert issubclass(DecodeError, Poison)


def test_many_errors_are_summed_up() -> None:
    with pytest.raises(DecodeError) as caught:
        ModelCodec(Order).decode(b'{"volume": -1, "comment": 5, "x": 1, "y": 2}')
    assert str(caught.value) == (
        "symbol: Field required; volume: Input should be greater than 0; "
        "comment: Input should be a valid string; and 2 more"
    )


def test_model_codec_refuses_other_types() -> None:
    with pytest.raises(TypeError, match="expected Order, got dict"):
        ModelCodec(Order).encode({"symbol": "EURUSD"})  # type: ignore[arg-type]
