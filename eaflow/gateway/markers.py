"""Chart markers from trade results: fills, closes, pending placements and SL/TP moves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from model import AccountState, Action, OrderStatus, Result

BUY, SELL = 0, 1  # POSITION_TYPE_BUY / POSITION_TYPE_SELL
UP, DOWN, GREY, ORANGE, BLUE = "#26a69a", "#ef5350", "#787b86", "#ff9800", "#2962ff"


def position_types(state: AccountState | None) -> dict[int, int]:
    """Position ticket → POSITION_TYPE_* of the open positions in a snapshot."""
    return {} if state is None else {p.ticket: p.type for p in state.positions}


FILLS = {BUY: ("buy", "arrowUp", UP, "belowBar"), SELL: ("sell", "arrowDown", DOWN, "aboveBar")}
UNKNOWN_FILL = ("fill", "circle", BLUE, "belowBar")


def marker(result: Result, types: Mapping[int, int]) -> dict[str, Any] | None:
    """A lightweight-charts marker (`time`, `position`, `shape`, `color`, `text`), plus the
    result's `kind` and `result_id`; None for results that moved nothing on the chart."""
    at = int(result.done_at)
    price = f" @ {result.price}" if result.price is not None else ""
    volume = f"{result.volume}" if result.volume is not None else ""
    if result.status is OrderStatus.FILLED:
        side = types.get(result.position_ticket or 0, -1)
        word, shape, color, where = FILLS.get(side, UNKNOWN_FILL)
        return _marker(result, "fill", at, where, shape, color, f"{word} {volume}{price}")
    if result.status is OrderStatus.CLOSED:
        return _marker(result, "close", at, "aboveBar", "square", GREY, f"close {volume}{price}")
    if result.status is OrderStatus.PLACED:
        return _marker(result, "placed", at, "aboveBar", "circle", BLUE, f"pending{price}")
    if result.status is OrderStatus.MODIFIED and result.action in (Action.SLTP, Action.MODIFY):
        return _marker(result, "sltp", at, "aboveBar", "circle", ORANGE, "SL/TP")
    return None


def _marker(
    result: Result, kind: str, at: int, position: str, shape: str, color: str, text: str
) -> dict[str, Any]:
    return {
        "time": at,
        "position": position,
        "shape": shape,
        "color": color,
        "text": text.strip(),
        "kind": kind,
        "result_id": result.result_id,
        "instance": result.instance,
    }
