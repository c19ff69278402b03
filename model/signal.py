"""A trade signal as it enters `rtss`: the seed's trade request plus targeting and sizing."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Annotated, Self

from pydantic import Field, model_validator

from model.base import EpochSeconds, Message
from model.enums import Action, OrderType, Side, SizingMode, StopsUnit
from model.ids import new_id

LARGEST = Decimal("1e12")
"""No price, volume, distance or risk of any market reaches it; beyond it the exact checks
(a price as a multiple of a 1e-8 tick) would need more than Decimal's 28 digits."""
Positive = Annotated[Decimal, Field(gt=0, le=LARGEST, allow_inf_nan=False)]
NonNegative = Annotated[Decimal, Field(ge=0, le=LARGEST, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:#@+\-]+$")]


class Signal(Message):
    """What a strategy asks for; the router turns it into one order per target instance.

    Example: ``Signal(symbol="EURUSD", order_type="buy", volume=Decimal("0.10"))``.
    Zero for stop_loss/take_profit means "none", as in MT5.
    """

    signal_id: Name = Field(default_factory=new_id)
    order_id: Name | None = None
    action: Action = Action.OPEN
    symbol: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    order_type: OrderType | None = None
    volume: Positive | None = None
    price: Positive | None = None
    stop_limit: Positive | None = None
    stop_loss: NonNegative | None = None
    take_profit: NonNegative | None = None
    stops_unit: StopsUnit = StopsUnit.PRICE
    sizing: SizingMode | None = None
    risk: Positive | None = None
    side: Side | None = None
    ticket: Annotated[int, Field(gt=0, lt=2**64)] | None = None  # MT5 tickets are ulong
    instances: tuple[Name, ...] = ()
    group: Name | None = None
    source: Name = "api"
    secret: str | None = Field(default=None, exclude=True, repr=False)
    comment: Annotated[str, Field(max_length=64)] = ""
    created_at: EpochSeconds = Field(default_factory=time.time)

    @property
    def effective_order_id(self) -> str:
        return self.order_id or self.signal_id

    @model_validator(mode="after")
    def _fields_for_action(self) -> Self:
        needs_symbol = {Action.OPEN, Action.MODIFY, Action.SLTP}
        if self.action in needs_symbol and self.symbol is None:
            raise ValueError(f"symbol: is required for action {self.action}")
        if self.action is Action.OPEN:
            if self.order_type is None:
                raise ValueError("order_type: is required for action open")
            if self.order_type.is_pending and self.price is None:
                raise ValueError(f"price: is required for a {self.order_type} order")
            if "stop_limit" in self.order_type and self.stop_limit is None:
                raise ValueError(f"stop_limit: is required for a {self.order_type} order")
        if self.sizing in (SizingMode.RISK_PERCENT, SizingMode.RISK_MONEY) and self.risk is None:
            raise ValueError(f"risk: is required when sizing is {self.sizing}")
        return self
