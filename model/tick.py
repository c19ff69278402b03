"""Ticks: the quote record (MT5's `Tick`) and the `ticks:{symbol}` stream entry format.

Each entry has one field `d`: orjson bytes of the `Tick` fields, e.g.
`{"time":1399334400,"bid":1.38742,"ask":1.38755,...}`. Feed, router, simulator and gateway
read and write ticks through these functions only.
"""

from __future__ import annotations

import contextlib
from typing import Any, NamedTuple

import orjson

FIELD = b"d"

LOOK_BACK = 5
"""Newest entries read for a symbol's quote, so malformed ones can be passed over."""


class Tick(NamedTuple):
    """`symbol_info_tick()`: the latest quote; `time` in seconds, `time_msc` in milliseconds."""

    time: int
    bid: float
    ask: float
    last: float = 0.0
    volume: int = 0
    time_msc: int = 0
    flags: int = 0
    volume_real: float = 0.0


class TickFormatError(ValueError):
    """A stream entry is not a tick this module wrote."""


def encode_tick(tick: Tick) -> bytes:
    """The entry's bytes (a dict written out: `Tick._asdict` costs twice as much)."""
    time, bid, ask, last, volume, time_msc, flags, volume_real = tick
    return orjson.dumps(
        {"time": time, "bid": bid, "ask": ask, "last": last, "volume": volume,
         "time_msc": time_msc, "flags": flags, "volume_real": volume_real}
    )  # fmt: skip


def decode_tick(raw: bytes | str) -> Tick:
    """The Tick in `raw`; TickFormatError names the missing or mistyped field."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise TickFormatError(f"tick: not JSON ({error})") from error
    if not isinstance(data, dict):
        raise TickFormatError("tick: expected a JSON object")
    try:
        return Tick(
            time=int(data["time"]),
            bid=float(data["bid"]),
            ask=float(data["ask"]),
            last=float(data.get("last", 0.0)),
            volume=int(data.get("volume", 0)),
            time_msc=int(data.get("time_msc", int(data["time"]) * 1000)),
            flags=int(data.get("flags", 0)),
            volume_real=float(data.get("volume_real", 0.0)),
        )
    except KeyError as error:
        raise TickFormatError(f"tick: field {error.args[0]!r} is required") from error
    except (TypeError, ValueError) as error:
        raise TickFormatError(f"tick: a field is not a number ({error})") from error


def entry_tick(entries: Any) -> Tick | None:
    """The tick of the first entry of an XRANGE/XREVRANGE reply, None for an empty reply."""
    if not entries:
        return None
    fields = entries[0][1]
    if isinstance(fields, list):  # raw [field, value, ...]: redis-py's cluster MULTI replies
        fields = dict(zip(fields[::2], fields[1::2], strict=True))
    raw = fields.get(FIELD)
    if raw is None:  # a client made with decode_responses=True
        raw = fields.get(FIELD.decode())
    if raw is None:
        raise TickFormatError(f"tick: stream entry {entries[0][0]!r} has no field 'd'")
    return decode_tick(raw)


def newest_tick(entries: Any) -> Tick | None:
    """The newest tick of an XREVRANGE reply that decodes (None when none does): a malformed
    entry (a feed glitch, a hand-written one) is passed over instead of failing every order
    and valuation on the symbol."""
    for entry in entries or ():
        with contextlib.suppress(TickFormatError):
            return entry_tick([entry])
    return None
