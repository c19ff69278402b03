"""A TradingView strategy order read with its position change, as TradingView means it.

A strategy alert says `buy` or `sell` and how many contracts; whether that opens, adds,
reduces, closes or reverses follows from `{{strategy.prev_market_position}}` →
`{{strategy.market_position}}` (long/short/flat) and their sizes, when the alert gives them.
"""

from __future__ import annotations

from decimal import Decimal

from eaflow.gateway.alerts.commands import Step
from eaflow.gateway.alerts.draft import Draft
from eaflow.gateway.alerts.values import AlertError, number, word
from model import Action, OrderType, Side

POSITIONS = ("long", "short", "flat")


def position(draft: Draft, name: str) -> str | None:
    given = draft.get(name)
    if given is None:
        return None
    value = word(given[0], given[1])
    if value not in POSITIONS:
        raise AlertError(given[0], f"must be long, short or flat, got '{value}'")
    return value


def size(draft: Draft, name: str) -> Decimal | None:
    given = draft.get(name)
    return None if given is None else number(given[0], given[1])


def close(side: str, volume: Decimal | None = None) -> Step:
    return {"action": Action.CLOSE, "side": Side(side), "volume": volume}


def entry(side: str, volume: Decimal | None = None) -> Step:
    order_type = OrderType.BUY if side == "long" else OrderType.SELL
    step: Step = {"action": Action.OPEN, "order_type": order_type}
    if volume:
        step["volume"] = volume
    return step


def strategy_steps(draft: Draft, step: Step) -> list[Step]:
    """`step` (a market buy/sell) as close, partial close, reversal or entry."""
    now, prev = position(draft, "position_now"), position(draft, "position_prev")
    side = "long" if step["order_type"] is OrderType.BUY else "short"
    against = "short" if side == "long" else "long"
    if now == "flat":  # the order closed a position: the one it was against
        return [close(prev if prev is not None and prev != "flat" else against)]
    if now is None or prev is None:
        return [step]
    size_now = size(draft, "size_now")
    if prev == "flat":
        return [entry(now, size_now)]
    if prev != now:
        return [close(prev), entry(now, size_now)]
    if side == now:
        return [step]
    size_prev = size(draft, "size_prev")
    if size_prev is not None and size_now is not None and size_prev > size_now:
        return [close(now, size_prev - size_now)]
    return [{"action": Action.CLOSE, "side": Side(now)}]  # reduced by the order's contracts
