"""`--from` / `--to` of a replay: stream ids or times, turned into XRANGE bounds."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_ID = re.compile(r"^\d+(-\d+)?$")


def stream_bound(text: str | None, option: str, end: bool = False) -> str:
    """An XRANGE bound: `-`/`+` when absent, a stream id (`1715000000000-0`, or its
    milliseconds alone), or an ISO time (`2024-05-06T12:00:00Z`; UTC when no zone is given).

    A time as `--to` includes the whole unit it is written to: `12:00:00` the whole second,
    `12:00` the whole minute, a date alone the whole day, `12:00:00.5` that tenth of a second.
    """
    if text is None or text in ("-", "+"):
        return "+" if end else "-"
    text = text.strip()
    if _ID.match(text):
        return text
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{option}: {text!r} is neither a stream id (1715000000000-0) nor a time "
            "(2024-05-06T12:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ms = round(moment.timestamp() * 1000)
    return str(ms + _unit_ms(text) - 1 if end else ms)


_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?)?")


def _unit_ms(text: str) -> int:
    """How many milliseconds the last field written in `text` spans (1 at most precise)."""
    found = _TIME.match(text)
    if found is None or found.group(1) is None:
        return 86_400_000
    _, minute, second, fraction = found.groups()
    if minute is None:
        return 3_600_000
    if second is None:
        return 60_000
    if fraction is None:
        return 1000
    digits: int = len(fraction)
    return 1 if digits >= 3 else (100, 10)[digits - 1]


def _key(bound: str, end: bool) -> tuple[int, int]:
    ms, _, seq = bound.partition("-")
    return int(ms), int(seq) if seq else (2**64 - 1 if end else 0)


def check_order(start: str, end: str) -> None:
    """Refuse a range that ends before it starts, naming both options."""
    if start in ("-", "+") or end in ("-", "+"):
        return
    if _key(end, True) < _key(start, False):
        raise ValueError(f"--to: {end} is before --from {start}")
