"""A strategy's order read with its position change: entry, add, reduce, close, reverse."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import orjson
import pytest

from eaflow.gateway.alerts import AlertError, Defaults, read_body, signals
from model import Action, OrderType, Side


def steps(action: str, contracts: str, **positions: str) -> list[tuple[Any, ...]]:
    body = {"action": action, "symbol": "EURUSD", "contracts": contracts, **positions}
    [draft] = read_body(orjson.dumps(body))
    return [
        (s["action"], s.get("order_type") or s.get("side"), s.get("volume"))
        for s in signals(draft, Defaults())[0]
    ]


def test_without_positions_it_is_an_entry() -> None:
    assert steps("sell", "1") == [(Action.OPEN, OrderType.SELL, D(1))]


def test_to_flat_closes_what_it_was_against() -> None:
    assert steps("sell", "1", market_position="flat", prev_market_position="long") == [
        (Action.CLOSE, Side.LONG, None)
    ]
    assert steps("buy", "1", market_position="flat") == [(Action.CLOSE, Side.SHORT, None)]


def test_from_flat_enters_the_new_size() -> None:
    assert steps(
        "buy", "2", market_position="long", prev_market_position="flat", market_position_size="2"
    ) == [(Action.OPEN, OrderType.BUY, D(2))]


def test_a_reversal_closes_then_enters_the_new_size() -> None:
    assert steps(
        "buy", "3", market_position="long", prev_market_position="short", market_position_size="1"
    ) == [(Action.CLOSE, Side.SHORT, None), (Action.OPEN, OrderType.BUY, D(1))]


def test_adding_and_reducing() -> None:
    assert steps("buy", "1", market_position="long", prev_market_position="long") == [
        (Action.OPEN, OrderType.BUY, D(1))
    ]
    assert steps(
        "sell",
        "1",
        market_position="long",
        prev_market_position="long",
        market_position_size="2",
        prev_market_position_size="3",
    ) == [(Action.CLOSE, Side.LONG, D(1))]
    assert steps("sell", "0.5", market_position="long", prev_market_position="long") == [
        (Action.CLOSE, Side.LONG, D("0.5"))
    ]


def test_positions_must_be_long_short_or_flat() -> None:
    with pytest.raises(AlertError) as refused:
        steps("buy", "1", market_position="sideways")
    assert refused.value.field == "market_position"
