"""Account state snapshots (`rts`): balance, equity, margin, positions, pending orders."""

from __future__ import annotations

from pydantic import Field

from model.base import Message


class PositionState(Message):
    ticket: int
    symbol: str
    type: int  # POSITION_TYPE_BUY / POSITION_TYPE_SELL
    volume: float
    price_open: float
    sl: float
    tp: float
    price_current: float
    profit: float
    magic: int
    comment: str


class PendingOrderState(Message):
    ticket: int
    symbol: str
    type: int  # ORDER_TYPE_*
    volume: float
    price_open: float
    price_stoplimit: float
    sl: float
    tp: float
    magic: int
    comment: str


class AccountState(Message):
    instance: str
    login: int
    currency: str
    balance: float
    equity: float
    margin: float
    margin_free: float
    margin_level: float
    profit: float
    positions: tuple[PositionState, ...] = ()
    orders: tuple[PendingOrderState, ...] = ()
    last_error: str | None = None
    ts: float = Field(default=0.0)
