"""Trading hours: weekly UTC windows such as `mon-fri 07:00-21:00`, and whether an instant
falls inside one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?) (?P<start>\d\d:\d\d)-(?P<end>\d\d:\d\d)$")


@dataclass(frozen=True)
class Window:
    """Days of the week (0 = Monday) and minutes of the day, start included, end excluded."""

    days: frozenset[int]
    start: int
    end: int


def _minutes(text: str, spec: str) -> int:
    hours, minutes = int(text[:2]), int(text[3:])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"trading_hours: {text!r} in {spec!r} is not a time of day (00:00-24:00)")
    return hours * 60 + minutes


def _days(text: str, spec: str) -> frozenset[int]:
    first, _, last = text.partition("-")
    for day in (first, last or first):
        if day not in DAYS:
            raise ValueError(f"trading_hours: {day!r} in {spec!r} is not one of {', '.join(DAYS)}")
    start, end = DAYS.index(first), DAYS.index(last or first)
    if end < start:
        raise ValueError(f"trading_hours: {text!r} in {spec!r} must run forward (mon-fri)")
    return frozenset(range(start, end + 1))


@dataclass(frozen=True)
class TradingHours:
    """Example: ``TradingHours.parse("sun 22:00-24:00, mon-thu 00:00-24:00, fri 00:00-22:00")``
    (the forex week, in UTC)."""

    spec: str
    windows: tuple[Window, ...]

    @classmethod
    def parse(cls, spec: str) -> TradingHours:
        windows = []
        for part in (p.strip().lower() for p in spec.split(",")):
            match = _WINDOW.match(part)
            if match is None:
                raise ValueError(
                    f"trading_hours: {part!r} must look like 'mon-fri 07:00-21:00' (UTC)"
                )
            start, end = _minutes(match["start"], spec), _minutes(match["end"], spec)
            if end <= start:
                raise ValueError(f"trading_hours: {part!r} must end after it starts")
            windows.append(Window(_days(match["days"], spec), start, end))
        return cls(spec, tuple(windows))

    def is_open(self, timestamp: float) -> bool:
        """Whether the instant (Unix seconds) falls inside a window."""
        moment = datetime.fromtimestamp(timestamp, UTC)
        minute = moment.hour * 60 + moment.minute
        return any(moment.weekday() in w.days and w.start <= minute < w.end for w in self.windows)
