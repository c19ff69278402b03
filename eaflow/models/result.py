"""A trade result in `rtrs`: what happened to one order on one instance, and when."""

from __future__ import annotations

import time
from decimal import Decimal

from pydantic import Field

from eaflow.models.base import Message
from eaflow.models.enums import Action, OrderStatus


class Result(Message):
    """One terminal result per order attempt; `field`/`error` say why when refused."""

    result_id: str
    order_id: str
    signal_id: str
    instance: str  # "*" when the signal was refused before it reached an instance
    action: Action | None = None
    symbol: str | None = None
    status: OrderStatus
    retcode: int | None = None
    retcode_name: str | None = None
    order_ticket: int | None = None
    deal_ticket: int | None = None
    position_ticket: int | None = None
    requested_price: Decimal | None = None
    price: Decimal | None = None
    volume: Decimal | None = None
    field: str | None = None
    error: str | None = None
    source: str = "api"
    received_at: float | None = None
    routed_at: float | None = None
    sent_at: float | None = None
    done_at: float = Field(default_factory=time.time)
