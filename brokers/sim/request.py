"""Reading an MT5 trade-request dict into a `TradeRequest`, field by field.

Like the MetaTrader5 package, a key it does not know or a value of the wrong type is refused
before the request reaches the server (`RequestError`, reported through `last_error()` as
(-2, 'Invalid "volume" argument: ...')). Whether values make sense is the server's business
and answered with retcodes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from brokers.mt5.records import TradeRequest

INT_FIELDS = frozenset(
    {
        "action",
        "magic",
        "order",
        "deviation",
        "type",
        "type_filling",
        "type_time",
        "expiration",
        "position",
        "position_by",
    }
)
FLOAT_FIELDS = frozenset({"volume", "price", "stoplimit", "sl", "tp"})
STR_FIELDS = frozenset({"symbol", "comment"})
COMMENT_LENGTH = 31


class RequestError(ValueError):
    """The request dict itself is malformed; `field` names the culprit."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f'Invalid "{field}" argument: {rule}')
        self.field = field


def unix_seconds(value: datetime | int) -> int:
    """Seconds since the epoch; a naive datetime is read as UTC, as MT5 server time is."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return int(aware.timestamp())
    return int(value)


def _value(name: str, value: Any) -> Any:
    if name in STR_FIELDS:
        if not isinstance(value, str):
            raise RequestError(name, f"expected a string, got {type(value).__name__}")
        return value[:COMMENT_LENGTH] if name == "comment" else value
    if isinstance(value, bool):
        raise RequestError(name, "expected a number, got bool")
    if name == "expiration" and isinstance(value, datetime):
        return unix_seconds(value)
    if name in INT_FIELDS:
        if not isinstance(value, int) or value < 0:
            raise RequestError(name, f"expected a non-negative integer, got {value!r}")
        return value
    if not isinstance(value, int | float) or value != value:
        raise RequestError(name, f"expected a number, got {value!r}")
    return float(value)


def parse_request(request: Mapping[str, Any] | TradeRequest) -> TradeRequest:
    """The request as a TradeRequest (missing fields 0 or empty); RequestError when malformed."""
    raw = request._asdict() if isinstance(request, TradeRequest) else request
    if not isinstance(raw, Mapping):
        raise RequestError("request", f"expected a dict, got {type(raw).__name__}")
    unknown = set(raw) - INT_FIELDS - FLOAT_FIELDS - STR_FIELDS
    if unknown:
        raise RequestError(sorted(unknown, key=str)[0], "not a trade request field")
    return TradeRequest(**{name: _value(name, value) for name, value in raw.items()})
