"""Account history queries: deals and finished orders by time range, ticket or position.

Both live in sorted sets scored by milliseconds (a deal's `time_msc`, an order's
`time_done_msc`), so a date range is one ZRANGEBYSCORE; a ticket or position lookup scans
the account's history. As in MT5, `ticket` selects an order: the order itself among finished
orders, the deals it made (their DEAL_ORDER) among deals. `group` filters symbols with MT5's
mask syntax: `"*USD*,!EUR*"` selects symbols containing USD except those starting with EUR.
"""

from __future__ import annotations

from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

import orjson
import redis

from brokers.mt5.api import Date
from brokers.mt5.records import TradeDeal, TradeOrder


def in_group(symbol: str, group: str | None) -> bool:
    """Does `symbol` pass the MT5 group filter (None passes everything)?"""
    if group is None:
        return True
    masks = [m.strip() for m in group.split(",") if m.strip()]
    if any(m.startswith("!") and fnmatchcase(symbol, m[1:]) for m in masks):
        return False
    return any(not m.startswith("!") and fnmatchcase(symbol, m) for m in masks)


def millis(value: Date, *, end: bool = False) -> int:
    """Epoch milliseconds of a datetime (naive = UTC) or of Unix seconds (`end`: last ms)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return int(aware.timestamp() * 1000)
    return int(value) * 1000 + (999 if end else 0)


def _rows(
    client: redis.Redis, key: str, date_from: Date | None, date_to: Date | None
) -> list[list[Any]]:
    raw: Any
    if date_from is None and date_to is None:
        raw = client.zrange(key, 0, -1)
    else:
        low = millis(date_from) if date_from is not None else "-inf"
        high = millis(date_to, end=True) if date_to is not None else "+inf"
        raw = client.zrangebyscore(key, low, high)
    return [orjson.loads(member) for member in raw]


def deals(
    client: redis.Redis,
    key: str,
    date_from: Date | None,
    date_to: Date | None,
    *,
    group: str | None = None,
    ticket: int | None = None,
    position: int | None = None,
) -> tuple[TradeDeal, ...]:
    """Deals in the range (or all) of order `ticket` (DEAL_ORDER), of `position` (its
    position_id) and of `group`'s symbols."""
    found = (TradeDeal(*row) for row in _rows(client, key, date_from, date_to))
    return tuple(
        d
        for d in found
        if (ticket is None or d.order == ticket)
        and (position is None or d.position_id == position)
        and (not d.symbol or in_group(d.symbol, group))
    )


def orders(
    client: redis.Redis,
    key: str,
    date_from: Date | None,
    date_to: Date | None,
    *,
    group: str | None = None,
    ticket: int | None = None,
    position: int | None = None,
) -> tuple[TradeOrder, ...]:
    """Finished orders in the range (or all) matching `ticket`, `position` and `group`."""
    found = (TradeOrder(*row) for row in _rows(client, key, date_from, date_to))
    return tuple(
        o
        for o in found
        if (ticket is None or o.ticket == ticket)
        and (position is None or o.position_id == position)
        and in_group(o.symbol, group)
    )
