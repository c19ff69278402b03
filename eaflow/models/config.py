"""Trading configuration (the seed's settings plus what many accounts need) and instances."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from eaflow.models.base import Message
from eaflow.models.enums import SizingMode


class TradingState(StrEnum):
    ACTIVE = "active"
    REDUCING = "reducing"  # exits only
    HALTED = "halted"  # the kill switch: nothing is sent


class TrailingStop(Message):
    """Distances in points. The SL moves only in the profitable direction."""

    enabled: bool = False
    distance: Annotated[int, Field(ge=0)] = 0
    step: Annotated[int, Field(ge=0)] = 0
    activation: Annotated[int, Field(ge=0)] = 0
    breakeven_trigger: Annotated[int, Field(ge=0)] = 0
    breakeven_offset: Annotated[int, Field(ge=0)] = 0


class TradingConfig(Message):
    """Effective configuration of one instance."""

    lot_size: Annotated[Decimal, Field(gt=0)] = Decimal("0.01")
    sizing: SizingMode = SizingMode.FIXED
    risk_per_trade: Annotated[Decimal, Field(gt=0, le=100)] = Decimal("1")
    max_drawdown: Annotated[Decimal, Field(gt=0, le=100)] = Decimal("50")
    max_open_orders: Annotated[int, Field(ge=0)] = 200
    slippage: Annotated[int, Field(ge=0)] = 10
    trailing_stop: TrailingStop = TrailingStop()
    allowed_symbols: tuple[str, ...] = ()
    max_spread: Annotated[int, Field(ge=0)] | None = None
    pyramiding: Annotated[int, Field(ge=1)] | None = None
    trading_state: TradingState = TradingState.ACTIVE


class InstanceSpec(Message):
    """One trading account: its broker URL, groups and configuration."""

    instance_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
    broker: str = "sim://"
    login: Annotated[int, Field(gt=0)]
    groups: tuple[str, ...] = ()
    magic: Annotated[int, Field(ge=0)] = 0
    config: TradingConfig = TradingConfig()
