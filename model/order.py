"""A validated, sized order for one instance, as the router writes it to `orders:{instance}`."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from model.base import EpochSeconds, Message
from model.config import TrailingStop
from model.enums import Action, OrderTime, OrderType, Side


class Order(Message):
    """Prices are absolute and on the symbol's tick size; volume is on its volume step."""

    order_id: str
    signal_id: str
    instance: str
    action: Action
    symbol: str | None = None
    order_type: OrderType | None = None
    volume: Decimal | None = None
    price: Decimal | None = None
    stop_limit: Decimal | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    side: Side | None = None
    ticket: Annotated[int, Field(gt=0, lt=2**64)] | None = None  # MT5 tickets are ulong
    deviation: Annotated[int, Field(ge=0, lt=2**32)] = 10  # points, uint in MT5
    magic: Annotated[int, Field(ge=0, lt=2**64)] = 0
    comment: str = ""  # the alert's comment, whole (results keep it)
    strategy: str = ""  # the tag in the MT5 comment, which exits may target (model.tags)
    type_time: OrderTime | None = None  # pending orders: how long they live (None: GTC)
    expiration: Annotated[int, Field(ge=0, lt=2**63)] = 0  # Unix seconds, with SPECIFIED*
    close_percent: Decimal | None = None  # close: this share of each matching position
    trailing: TrailingStop | None = None  # the alert's own trailing, in the symbol's points
    source: str = "api"
    received_at: EpochSeconds
    routed_at: EpochSeconds
    signal_symbol: str | None = None  # the signal's name when the broker's `symbol` differs
    sizing: str | None = (
        None  # the rule that sized an opening order, e.g. "0.1 × 2 (lot_multiplier)"
    )

    @property
    def result_id(self) -> str:
        """Deterministic, so sinks collapse a result that was written twice."""
        return f"{self.order_id}@{self.instance}"
