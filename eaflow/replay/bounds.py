"""`--from` / `--to` of a replay: stream ids or times, turned into XRANGE bounds."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_ID = re.compile(r"^\d+(-\d+)?$")


def stream_bound(text: str | None, option: str, end: bool = False) -> str:
    """An XRANGE bound: `-`/`+` when absent, a stream id (`1715000000000-0`, or its
    milliseconds alone), or an ISO time (`2024-05-06T12:00:00Z`; UTC when no zone is given).

    A time as `--to` includes every entry of that millisecond.
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
    return str(int(moment.timestamp() * 1000))


def _key(bound: str, end: bool) -> tuple[int, int]:
    ms, _, seq = bound.partition("-")
    return int(ms), int(seq) if seq else (2**64 - 1 if end else 0)


def check_order(start: str, end: str) -> None:
    """Refuse a range that ends before it starts, naming both options."""
    if start in ("-", "+") or end in ("-", "+"):
        return
    if _key(end, True) < _key(start, False):
        raise ValueError(f"--to: {end} is before --from {start}")
