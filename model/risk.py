"""Prop-firm risk rules of one instance: loss limits per day and week, trades per day."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from model.base import Message

HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

Money = Annotated[Decimal, Field(gt=0)]
Percent = Annotated[Decimal, Field(gt=0, le=100)]


class RiskRules(Message):
    """Limits measured from the equity at the start of the broker's day (or week, which
    starts on Monday at `day_start`): when a loss limit is hit the instance goes to
    `on_limit` (and, with `close_all`, its positions are closed) until the next period
    starts or an operator lifts it. Every limit is off unless set.

    Example: ``RiskRules(daily_loss_percent=5, day_start="17:00",
    timezone="America/New_York", close_all=True)``.
    """

    daily_loss: Money | None = None  # account currency
    daily_loss_percent: Percent | None = None  # of the day's starting equity
    weekly_loss: Money | None = None
    weekly_loss_percent: Percent | None = None
    max_trades_per_day: Annotated[int, Field(ge=1)] | None = None  # opening orders routed
    day_start: str = "00:00"  # HH:MM in `timezone`: the broker's day boundary
    timezone: str = "UTC"  # IANA name of the broker's server time zone
    on_limit: Literal["reducing", "halted"] = "halted"
    close_all: bool = False  # close every position when a loss limit is hit

    @field_validator("day_start")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        if not HH_MM.match(value):
            raise ValueError(f"{value!r} must be HH:MM")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"{value!r} is not an IANA time zone") from error
        return value

    @property
    def limits_loss(self) -> bool:
        return any(
            v is not None
            for v in (
                self.daily_loss,
                self.daily_loss_percent,
                self.weekly_loss,
                self.weekly_loss_percent,
            )
        )

    def periods(self, at: float) -> tuple[str, str]:
        """The day and the week `at` (epoch seconds) falls in, as the broker counts them:
        e.g. ``("2026-12-07", "2026-W50")``; the day is named after its calendar date in
        `timezone` once `day_start` has passed."""
        hours, minutes = int(self.day_start[:2]), int(self.day_start[3:])
        local = datetime.fromtimestamp(at, ZoneInfo(self.timezone))
        day = (local - timedelta(hours=hours, minutes=minutes)).date()
        year, week, _ = day.isocalendar()
        return day.isoformat(), f"{year}-W{week:02d}"

    def next_start(self, at: float) -> float:
        """When the day after the one `at` falls in starts (epoch seconds)."""
        hours, minutes = int(self.day_start[:2]), int(self.day_start[3:])
        zone = ZoneInfo(self.timezone)
        day = datetime.fromisoformat(self.periods(at)[0]) + timedelta(days=1)
        return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=zone).timestamp()
