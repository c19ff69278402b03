"""Trading configuration (the seed's settings plus what many accounts need) and instances."""

from __future__ import annotations

import re
from datetime import time
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator

from model.base import EpochSeconds, Message
from model.enums import SizingMode
from model.money import points_per_pip
from model.risk import RiskRules

SymbolName = Annotated[str, Field(min_length=1, max_length=32)]

SESSION = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$")


class TradingState(StrEnum):
    ACTIVE = "active"
    REDUCING = "reducing"  # exits only
    HALTED = "halted"  # the kill switch: nothing is sent


class TrailingStop(Message):
    """Distances in points. The SL moves only in the profitable direction.

    In a configuration `true`/`false` stands for `{"enabled": true}`/`{"enabled": false}`
    (the original design's `"trailing_stop": true`): the configured distances stay.
    """

    enabled: bool = False
    distance: Annotated[int, Field(ge=0)] = 0
    step: Annotated[int, Field(ge=0)] = 0
    activation: Annotated[int, Field(ge=0)] = 0
    breakeven_trigger: Annotated[int, Field(ge=0)] = 0
    breakeven_offset: Annotated[int, Field(ge=0)] = 0


def enabled_shorthand(value: object) -> object:
    """`trailing_stop: true` is `{"enabled": true}` (the original design's shorthand)."""
    return {"enabled": value} if isinstance(value, bool) else value


Pips = Annotated[Decimal, Field(ge=0, le=10_000, allow_inf_nan=False)]
"""Slippage in pips (10 points on 3- and 5-digit symbols, 1 point otherwise)."""
Points = Annotated[int, Field(ge=0, lt=2**32)]
"""Slippage in points: MT5's `deviation`, an unsigned int."""


class SymbolConfig(Message):
    """Per-symbol overrides of an instance's configuration; unset fields inherit."""

    lot_size: Annotated[Decimal, Field(gt=0)] | None = None
    sizing: SizingMode | None = None
    risk_per_trade: Annotated[Decimal, Field(gt=0, le=100)] | None = None
    slippage: Pips | None = None
    slippage_points: Points | None = None
    max_spread: Annotated[int, Field(ge=0)] | None = None
    pyramiding: Annotated[int, Field(ge=1)] | None = None
    trailing_stop: TrailingStop | None = None
    max_volume: Annotated[Decimal, Field(gt=0)] | None = None
    max_risk_percent: Annotated[Decimal, Field(gt=0, le=100)] | None = None

    _shorthand = field_validator("trailing_stop", mode="before")(enabled_shorthand)


class TradingConfig(Message):
    """Effective configuration of one instance (global defaults + its overrides).

    Example: ``TradingConfig(max_open_orders=5, symbols={"XAUUSD": {"lot_size": "0.1"}})``.
    """

    lot_size: Annotated[Decimal, Field(gt=0)] = Decimal("0.01")
    sizing: SizingMode = SizingMode.FIXED
    risk_per_trade: Annotated[Decimal, Field(gt=0, le=100)] = Decimal("1")
    max_drawdown: Annotated[Decimal, Field(gt=0, le=100)] = Decimal("50")
    max_open_orders: Annotated[int, Field(ge=0)] = 200
    slippage: Pips | None = None  # pips, converted per symbol; wins over slippage_points
    slippage_points: Points = 10  # MT5's deviation in points, when slippage is not set
    trailing_stop: TrailingStop = TrailingStop()
    allowed_symbols: tuple[Annotated[str, Field(min_length=1, max_length=32)], ...] = ()
    symbols: dict[Annotated[str, Field(min_length=1, max_length=32)], SymbolConfig] = Field(
        default_factory=dict
    )
    max_spread: Annotated[int, Field(ge=0)] | None = None  # points
    pyramiding: Annotated[int, Field(ge=1)] | None = None  # positions per symbol and direction
    order_rate_limit: Annotated[int, Field(ge=1)] | None = None  # orders per minute
    max_volume: Annotated[Decimal, Field(gt=0)] | None = None  # lots per order
    max_risk_percent: Annotated[Decimal, Field(gt=0, le=100)] | None = None  # % of balance
    allowed_sources: tuple[Annotated[str, Field(min_length=1, max_length=64)], ...] = ()
    allowed_sessions: tuple[str, ...] = ()  # "HH:MM-HH:MM" in UTC; empty: always
    trading_state: TradingState = TradingState.ACTIVE
    # copying one alert to this account (processors/router/copying.py):
    symbol_map: dict[SymbolName, SymbolName] = Field(default_factory=dict)  # signal → broker
    symbol_prefix: Annotated[str, Field(max_length=16)] = ""  # broker name = prefix+symbol+suffix
    symbol_suffix: Annotated[str, Field(max_length=16)] = ""
    lot_multiplier: Annotated[Decimal, Field(gt=0, le=1000)] = Decimal(1)  # times the sized lots
    fixed_lot: Annotated[Decimal, Field(gt=0)] | None = None  # lots, whatever the signal says
    reverse: bool = False  # buy↔sell, SL↔TP
    risk: RiskRules = RiskRules()  # loss limits and trades per day (model/risk.py)

    _shorthand = field_validator("trailing_stop", mode="before")(enabled_shorthand)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for name in ("allowed_symbols", "allowed_sources", "allowed_sessions"):
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise ValueError(f"{name}: must not repeat a value")
        for symbol in self.symbols:
            if self.allowed_symbols and symbol not in self.allowed_symbols:
                raise ValueError(f"symbols.{symbol}: is not in allowed_symbols")
        for session in self.allowed_sessions:
            match = SESSION.match(session)
            if match is None or (match[3] == "24" and match[4] != "00"):
                raise ValueError(f"allowed_sessions: {session!r} must be HH:MM-HH:MM (UTC)")
            if session[:5] == session[6:]:
                raise ValueError(f"allowed_sessions: {session!r} must not be empty")
        return self

    def for_symbol(self, symbol: str | None) -> TradingConfig:
        """This configuration with the symbol's overrides applied (itself when none)."""
        override = self.symbols.get(symbol or "")
        if override is None:
            return self
        merged = self.model_dump()
        given = override.model_dump(exclude_unset=True, exclude_none=True)
        if "slippage_points" in given and "slippage" not in given:
            merged["slippage"] = None  # the symbol's points, not the instance's pips
        for name, value in given.items():
            merged[name] = {**merged[name], **value} if isinstance(value, dict) else value
        return TradingConfig.model_validate(merged)

    def deviation(self, symbol: str | None, digits: int | None) -> int:
        """MT5's `deviation` in points for `symbol` (quoted with `digits`): `slippage` pips
        (10 points on 3- and 5-digit quotes, 1 point otherwise, half up to whole points),
        else `slippage_points`. Without a symbol's digits a pip counts 10 points."""
        config = self.for_symbol(symbol)
        if config.slippage is None:
            return config.slippage_points
        points = config.slippage * points_per_pip(digits)
        return int(points.to_integral_value(ROUND_HALF_UP))

    def in_session(self, at: time) -> bool:
        """Whether `at` (UTC) falls in an allowed session; always true without sessions."""
        return not self.allowed_sessions or any(_within(s, at) for s in self.allowed_sessions)


def _within(session: str, at: time) -> bool:
    start = time.fromisoformat(session[:5])
    end = time.max if session[6:] == "24:00" else time.fromisoformat(session[6:])
    if start < end:
        return start <= at < end
    return at >= start or at < end  # over midnight, e.g. 22:00-06:00


class AlertSwitch(Message):
    """An alert's `eaoff`/`eaon` on one instance (`Keys.switch`), kept apart from the
    operator's `trading_state` (the configuration): an alert's switch never lifts an
    operator's halt, and the configuration never hides an alert's `eaoff`. The instance
    trades only while both allow it.
    """

    state: Literal[TradingState.ACTIVE, TradingState.HALTED]
    source: str
    signal_id: str
    order_id: str
    at: EpochSeconds


LEGACY_DUMP = frozenset({"lot_size", "sizing", "max_open_orders", "slippage", "trading_state"})
"""Fields every published configuration held before `slippage_points` existed."""


class InstanceSpec(Message):
    """One trading account: its broker URL, groups and configuration.

    `config_version` is the configuration version this spec was published with, so each
    instance can say which version it applies.
    """

    instance_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
    broker: str = "sim://"
    login: Annotated[int, Field(gt=0)]
    groups: tuple[str, ...] = ()
    magic: Annotated[int, Field(ge=0, lt=2**64)] = 0
    config: TradingConfig = TradingConfig()
    config_version: Annotated[int, Field(ge=0)] = 0

    @field_validator("config", mode="before")
    @classmethod
    def _points_slippage(cls, value: object) -> object:
        """A spec published before `slippage` meant pips holds a whole configuration with
        `slippage` in points and no `slippage_points`: its slippage stays points."""
        if (
            isinstance(value, dict)
            and value.keys() >= LEGACY_DUMP
            and "slippage_points" not in value
        ):
            value = {**value, "slippage_points": value["slippage"], "slippage": None}
        return value
