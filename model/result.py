"""A trade result in `rtrs`: what happened to one order on one instance, and when."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from model.base import EpochSeconds, Message
from model.enums import Action, OrderStatus

Retcode = Annotated[int, Field(ge=-(2**31), lt=2**31)]
Ticket = Annotated[int, Field(ge=0, lt=2**63)]


class Result(Message):
    """One terminal result per order attempt; `field`/`error` say why when refused.

    Numbers are bounded as the results table stores them (INT32 retcode, INT64 tickets,
    finite epoch seconds): a result out of range is refused when decoded, alone, instead
    of failing every batch of the sinks behind it.
    """

    result_id: str
    order_id: str
    signal_id: str
    instance: str  # "*" when the signal was refused before it reached an instance
    action: Action | None = None
    symbol: str | None = None  # the broker's name
    signal_symbol: str | None = None  # the signal's name when the broker's differs
    sizing: str | None = None  # the rule that sized an opening order
    status: OrderStatus
    retcode: Retcode | None = None
    retcode_name: str | None = None
    order_ticket: Ticket | None = None
    deal_ticket: Ticket | None = None
    position_ticket: Ticket | None = None
    requested_price: Decimal | None = None
    price: Decimal | None = None
    volume: Decimal | None = None
    field: str | None = None
    error: str | None = None
    source: str = "api"
    strategy: str | None = None  # the order's tag (model.tags)
    comment: str | None = None  # the alert's comment, whole
    received_at: EpochSeconds | None = None
    routed_at: EpochSeconds | None = None
    sent_at: EpochSeconds | None = None
    done_at: EpochSeconds = Field(default_factory=time.time)
