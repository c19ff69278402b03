"""The mt5linux wire format: what a call sends, and how answers are rebuilt from their type."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from brokers.mt5.records import OrderSendResult, TradeRequest
from brokers.mt5.wire import call_source, decoder


def test_arguments_left_as_none_are_left_out_as_mt5_wants() -> None:
    since = datetime(2024, 1, 2, tzinfo=UTC)
    assert call_source("history_deals_get", (None, None), {"position": 7, "group": None}) == (
        "_eaflow_plain(mt5.history_deals_get(position=7))"
    )
    assert call_source("initialize", (None,), {"login": 5}) == (
        "_eaflow_plain(mt5.initialize(login=5))"
    )
    assert call_source("copy_ticks_from", ("EURUSD", since, 3, 1), {}) == (
        f"_eaflow_plain(mt5.copy_ticks_from('EURUSD', {since!r}, 3, 1))"
    )
    assert "'sl': None" in call_source("order_check", ({"sl": None},), {})  # inside: as given


def test_answers_become_the_type_the_signature_names() -> None:
    sent = decoder(OrderSendResult | None)(
        {"retcode": 10009, "order": 5, "added_later": 1, "request": {"symbol": "EURUSD"}}
    )
    assert sent == OrderSendResult(10009, order=5, request=TradeRequest(symbol="EURUSD"))
    assert decoder(OrderSendResult | None)(None) is None
    assert decoder(tuple[int, int, str] | None)([500, 5000, "build"]) == (500, 5000, "build")
    assert decoder(tuple[TradeRequest, ...] | None)([{"order": 1}]) == (TradeRequest(order=1),)
    assert decoder(float | None)(3) == 3.0 and isinstance(decoder(float | None)(3), float)
    assert decoder(bool)(None) is False  # an unreachable server: MT5's failure answer


def test_a_type_the_wire_cannot_carry_is_refused_when_the_decoder_is_made() -> None:
    with pytest.raises(TypeError, match="cannot decode"):
        decoder(int | str | None)
    with pytest.raises(TypeError, match="cannot decode"):
        decoder(dict[str, int])
