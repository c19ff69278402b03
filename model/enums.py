"""Enumerations of the trading domain, spelled as alerts and results spell them."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any


class Word(StrEnum):
    """An enumeration read in any case and with `-`, ` ` or `_` between its words, as people
    write it: `BUY`, `Buy` and `buy`; `BUY_LIMIT`, `buy-limit` and `buylimit` (the original
    design's trade request writes `"order_type": "BUY"`)."""

    @classmethod
    def _missing_(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return None
        key = re.sub(r"[\s\-_]+", "", value).lower()
        for member in cls:
            if member.value.replace("_", "") == key:
                return member
        return None


class Action(Word):
    """What a signal asks for."""

    OPEN = "open"  # market or pending order
    MODIFY = "modify"  # change a pending order's price, stop-limit, SL or TP
    CLOSE = "close"  # close a position, fully or partially
    SLTP = "sltp"  # change a position's SL/TP
    CANCEL = "cancel"  # remove a pending order
    CLOSE_ALL = (
        "close_all"  # close every position (and cancel pending orders) of a symbol or instance
    )
    HALT = "halt"  # set the instance's trading state to halted (eaoff)
    RESUME = "resume"  # set it back to active (eaon)


EXIT_ACTIONS = frozenset({Action.CLOSE, Action.CANCEL, Action.CLOSE_ALL, Action.SLTP})


class OrderType(Word):
    BUY = "buy"
    SELL = "sell"
    BUY_LIMIT = "buy_limit"
    SELL_LIMIT = "sell_limit"
    BUY_STOP = "buy_stop"
    SELL_STOP = "sell_stop"
    BUY_STOP_LIMIT = "buy_stop_limit"
    SELL_STOP_LIMIT = "sell_stop_limit"

    @property
    def is_buy(self) -> bool:
        return self.value.startswith("buy")

    @property
    def is_pending(self) -> bool:
        return self not in (OrderType.BUY, OrderType.SELL)


class Side(Word):
    """Direction filter for exits: `closelong` closes buys, `closeshort` sells."""

    LONG = "long"
    SHORT = "short"


class SizingMode(Word):
    FIXED = "fixed"  # lots
    RISK_PERCENT = "risk_percent"  # percent of balance lost at the stop loss
    RISK_MONEY = "risk_money"  # account-currency amount lost at the stop loss


class StopsUnit(Word):
    """How stop_loss/take_profit of a signal are expressed."""

    PRICE = "price"
    POINTS = "points"
    PIPS = "pips"  # 10 points on 3- and 5-digit symbols, 1 point otherwise
    PERCENT = "percent"  # of the entry price


class OrderTime(Word):
    """How long a pending order lives (MT5's ORDER_TIME_*): until cancelled, until the end of
    the trading day, until `expiration`, or until the end of `expiration`'s day."""

    GTC = "gtc"
    DAY = "day"
    SPECIFIED = "specified"
    SPECIFIED_DAY = "specified_day"


class OrderStatus(Word):
    RECEIVED = "received"
    ROUTED = "routed"
    SENT = "sent"
    FILLED = "filled"
    PLACED = "placed"
    MODIFIED = "modified"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.PLACED,
        OrderStatus.MODIFIED,
        OrderStatus.CLOSED,
        OrderStatus.CANCELLED,
        OrderStatus.REJECTED,
        OrderStatus.FAILED,
    }
)
