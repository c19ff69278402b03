"""Trade states (`trades`): the original design's trade state model, one entry each time a
trade opens, changes or closes, with the profit, commission and swap of the broker's deals.

A trade is an MT5 position: `trade_id` is its ticket (its deals' `position_id`), unique on
its account, so (`instance`, `trade_id`) names a trade and (`instance`, `trade_id`, `seq`)
one of its entries (`state_id`, which the sinks store once).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from model.base import EpochSeconds, Message
from model.result import Ticket


class TradeStatus(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


class TradeEvent(StrEnum):
    """What the entry reports: the trade opened, its stops or volume changed (a trailing
    move is a changed stop loss), part of it closed, or all of it."""

    OPENED = "opened"
    MODIFIED = "modified"
    PARTIALLY_CLOSED = "partially_closed"
    CLOSED = "closed"


class TradeState(Message):
    """Example: ``{"trade_id": 7, "symbol": "EURUSD", "volume": 1.0, "status": "OPEN",
    "profit": -1.5, "entry_price": 1.12345, "stop_loss": 1.12, "take_profit": 1.125, ...}``.

    `profit` is the position's floating profit while OPEN and the profit its deals realised
    once CLOSED; `realized_profit`, `commission`, `swap` and `fee` add up its deals so far,
    so a CLOSED entry's `profit + commission + swap + fee` is what the trade earned.
    """

    state_id: str  # "{instance}:{trade_id}:{seq}"
    trade_id: Ticket
    instance: str
    seq: int = Field(ge=1)  # 1 for the entry that opened the trade, then 2, 3...
    event: TradeEvent
    status: TradeStatus
    symbol: str
    side: str  # "buy" or "sell"
    volume: float  # held now; on CLOSED, what was held before the last close
    closed_volume: float = 0.0  # closed by the trade's deals so far
    entry_price: float
    stop_loss: float | None = None  # None: no stop loss
    take_profit: float | None = None
    close_price: float | None = None  # the price of its latest closing deal
    profit: float
    realized_profit: float = 0.0
    commission: float = 0.0
    swap: float = 0.0
    fee: float = 0.0
    magic: int = 0
    comment: str = ""
    strategy: str | None = None  # the tag in an eaflow comment (model.tags), None: untagged
    opened_at: EpochSeconds
    closed_at: EpochSeconds | None = None
    ts: EpochSeconds  # when the change was seen
