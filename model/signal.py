"""A trade signal as it enters `rtss`: the seed's trade request plus targeting and sizing."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import Field, model_validator

from model.base import EpochSeconds, Message
from model.enums import Action, OrderTime, OrderType, Side, SizingMode, StopsUnit
from model.ids import new_id
from model.tags import LABEL_LENGTH

LARGEST = Decimal("1e12")
"""No price, volume, distance or risk of any market reaches it; beyond it the exact checks
(a price as a multiple of a 1e-8 tick) would need more than Decimal's 28 digits."""
Positive = Annotated[Decimal, Field(gt=0, le=LARGEST, allow_inf_nan=False)]
NonNegative = Annotated[Decimal, Field(ge=0, le=LARGEST, allow_inf_nan=False)]
Percent = Annotated[Decimal, Field(gt=0, le=100, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:#@+\-]+$")]
Strategy = Annotated[str, Field(min_length=1, max_length=LABEL_LENGTH, pattern=r"^[\x20-\x7e]+$")]
"""A strategy tag: printable ASCII, short enough to stand in MT5's 31-character comment
beside the key eaflow recognises its orders by (docs/decisions/0015)."""

DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)$", re.IGNORECASE)
SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_LEGS = 10


class TakeProfit(Message):
    """One rung of a take-profit ladder: its level (in the signal's `stops_unit`) and the
    percent of the position it closes (equal shares when no leg gives one)."""

    take_profit: Positive
    share: Percent | None = None


class AlertTrailing(Message):
    """Trailing stop and break-even that ride with the position an alert opens (PineConnector's
    `trtrig=`/`trdist=`/`trstep=`, `betrigger=`/`beoffset=`), in `unit`: pips, points, or a
    price distance (a multiple of the ATR the alert carries)."""

    distance: NonNegative = Decimal(0)
    step: NonNegative = Decimal(0)
    activation: NonNegative = Decimal(0)
    breakeven_trigger: NonNegative = Decimal(0)
    breakeven_offset: NonNegative = Decimal(0)
    unit: StopsUnit = StopsUnit.PIPS

    @model_validator(mode="after")
    def _in_a_distance_unit(self) -> Self:
        if self.unit is StopsUnit.PERCENT:
            raise ValueError("trailing.unit: must be pips, points or price (a distance)")
        if not self.distance and not self.breakeven_trigger:
            raise ValueError("trailing: needs a trailing distance or a break-even trigger")
        return self


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
    price_unit: StopsUnit = StopsUnit.PRICE
    stop_loss: NonNegative | None = None
    take_profit: NonNegative | None = None
    take_profits: tuple[TakeProfit, ...] = ()
    stops_unit: StopsUnit = StopsUnit.PRICE
    sizing: SizingMode | None = None
    risk: Positive | None = None
    side: Side | None = None
    ticket: Annotated[int, Field(gt=0, lt=2**64)] | None = None  # MT5 tickets are ulong
    close_percent: Percent | None = None
    type_time: OrderTime | None = None
    expiration: EpochSeconds | None = None
    trailing: AlertTrailing | None = None
    max_spread_pips: NonNegative | None = None
    min_balance: NonNegative | None = None
    min_equity: NonNegative | None = None
    min_margin_free: NonNegative | None = None
    min_margin_level: NonNegative | None = None
    instances: tuple[Name, ...] = ()
    group: Name | None = None
    source: Name = "api"
    secret: str | None = Field(default=None, exclude=True, repr=False)
    strategy: Strategy | None = None
    comment: Annotated[str, Field(max_length=64)] = ""
    created_at: EpochSeconds = Field(default_factory=time.time)

    @property
    def effective_order_id(self) -> str:
        return self.order_id or self.signal_id

    @model_validator(mode="before")
    @classmethod
    def _expiration_as_time(cls, data: Any) -> Any:
        """`expiration` as Unix seconds, an ISO time (UTC unless it says otherwise) or a
        duration from the signal's creation (`90m`, `4h`, `1d`)."""
        if not isinstance(data, dict) or not isinstance(data.get("expiration"), str):
            return data
        text = data["expiration"].strip()
        data = dict(data)
        duration = DURATION.match(text)
        if duration:
            created = data.setdefault("created_at", time.time())
            if isinstance(created, int | float):
                unit = SECONDS[duration[2].lower()]
                data["expiration"] = float(created) + float(duration[1]) * unit
            return data
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                data["expiration"] = float(text)
            except ValueError:
                raise ValueError(
                    f"expiration: {text[:40]!r} must be Unix seconds, an ISO time "
                    "(2026-05-06T17:00:00Z) or a duration (90m, 4h, 1d)"
                ) from None
            return data
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        data["expiration"] = moment.timestamp()
        return data

    @model_validator(mode="after")
    def _fields_for_action(self) -> Self:
        needs_symbol = {Action.OPEN, Action.MODIFY, Action.SLTP}
        if self.action in needs_symbol and self.symbol is None:
            raise ValueError(f"symbol: is required for action {self.action}")
        if self.action is Action.OPEN:
            self._check_open()
        elif self.take_profits:
            raise ValueError("take_profits: a ladder belongs to an entry (action open)")
        elif self.trailing is not None:
            raise ValueError("trailing: rides with the position an entry opens (action open)")
        if self.close_percent is not None:
            if self.action is not Action.CLOSE:
                raise ValueError("close_percent: applies to action close only")
            if self.volume is not None:
                raise ValueError("close_percent: give the volume or a percent, not both")
        if self.sizing in (SizingMode.RISK_PERCENT, SizingMode.RISK_MONEY) and self.risk is None:
            raise ValueError(f"risk: is required when sizing is {self.sizing}")
        self._check_expiry()
        return self

    def _check_open(self) -> None:
        assert self.action is Action.OPEN
        if self.order_type is None:
            raise ValueError("order_type: is required for action open")
        if self.order_type.is_pending and self.price is None:
            raise ValueError(f"price: is required for a {self.order_type} order")
        if "stop_limit" in self.order_type and self.stop_limit is None:
            raise ValueError(f"stop_limit: is required for a {self.order_type} order")
        if self.price_unit is not StopsUnit.PRICE:
            if not self.order_type.is_pending:
                raise ValueError(
                    f"price: a distance in {self.price_unit} places a pending order; a "
                    f"{self.order_type} fills at the current price (use buylimit, buystop...)"
                )
            if "stop_limit" in self.order_type:
                raise ValueError(
                    f"price_unit: a {self.order_type} order takes prices, not distances"
                )
        if self.take_profits:
            if self.take_profit:
                raise ValueError("take_profits: give one take_profit or a ladder, not both")
            if not 2 <= len(self.take_profits) <= MAX_LEGS:
                raise ValueError(f"take_profits: a ladder has 2 to {MAX_LEGS} levels")
            shares = [leg.share for leg in self.take_profits]
            if any(s is not None for s in shares):
                if any(s is None for s in shares):
                    raise ValueError("take_profits: give every level a share, or none")
                if sum(s for s in shares if s is not None) != 100:
                    raise ValueError(
                        f"take_profits: the shares add up to {sum(s or 0 for s in shares)}%, "
                        "not 100%"
                    )

    def _check_expiry(self) -> None:
        pending = (
            self.action is Action.OPEN
            and self.order_type is not None
            and self.order_type.is_pending
        )
        if self.type_time is None and self.expiration is None:
            return
        if not pending and self.action is not Action.MODIFY:
            field = "expiration" if self.expiration is not None else "type_time"
            raise ValueError(f"{field}: applies to pending orders only (a market order fills now)")
        specified = (OrderTime.SPECIFIED, OrderTime.SPECIFIED_DAY)
        time_type = self.type_time or OrderTime.SPECIFIED
        if time_type in specified and self.expiration is None:
            raise ValueError(f"expiration: is required for type_time {time_type}")
        if time_type not in specified and self.expiration is not None:
            raise ValueError(f"expiration: is given, but type_time {time_type} takes none")
        if self.expiration is not None and self.expiration <= self.created_at:
            raise ValueError("expiration: is in the past")
