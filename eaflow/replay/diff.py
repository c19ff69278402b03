"""Compare replayed results with recorded ones, result by result (matched by result_id):
outcomes exactly, prices within a tolerance (a fresh simulator fills at the recorded tick of
the entry's moment, which may be a point or two from the live fill)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from model import Result

OUTCOME = ("action", "symbol", "status", "retcode", "retcode_name", "volume", "field", "error")
"""What a replay must reproduce exactly. Tickets differ on a fresh simulator by nature: only
whether there is one is compared; times are not compared."""
TICKETS = ("order_ticket", "deal_ticket", "position_ticket")
PRICES = ("requested_price", "price")
"""Compared as a deviation (replayed − recorded), ignored within the tolerance."""

DEFAULT_TOLERANCE = Decimal("0.01")
"""Percent of the recorded price a replayed price may deviate by and count as the same."""

VERDICTS = ("same", "changed", "price", "new", "missing")


def shown(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass
class Row:
    """One result: `same`, `changed` (an outcome differs: `changes` says which, prices
    beyond the tolerance included), `price` (only prices differ beyond the tolerance),
    `new` (only in the replay) or `missing` (only in the recording)."""

    result_id: str
    signal_id: str
    instance: str
    verdict: str
    changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    recorded: Result | None = None
    replayed: Result | None = None
    deviations: dict[str, Decimal] = field(default_factory=dict)  # price: replayed − recorded


def _outcome(before: Result, after: Result) -> dict[str, tuple[str | None, str | None]]:
    changes = {
        name: (shown(getattr(before, name)), shown(getattr(after, name)))
        for name in OUTCOME
        if getattr(before, name) != getattr(after, name)
    }
    for name in TICKETS:
        had, has = getattr(before, name) is not None, getattr(after, name) is not None
        if had != has:
            changes[name] = ("a ticket" if had else None, "a ticket" if has else None)
    return changes


def _prices(
    before: Result, after: Result, tolerance: Decimal
) -> tuple[dict[str, tuple[str | None, str | None]], dict[str, Decimal]]:
    """Prices one side lacks (an outcome change), and those beyond the tolerance."""
    changes: dict[str, tuple[str | None, str | None]] = {}
    deviations: dict[str, Decimal] = {}
    for name in PRICES:
        old, new = getattr(before, name), getattr(after, name)
        if old == new:
            continue
        changes[name] = (shown(old), shown(new))
        if old is not None and new is not None:
            deviation = new - old
            if abs(deviation) * 100 <= tolerance * abs(old):
                del changes[name]
            else:
                deviations[name] = deviation
    return changes, deviations


def compare(
    recorded: Iterable[Result],
    replayed: Iterable[Result],
    tolerance: Decimal = DEFAULT_TOLERANCE,
) -> list[Row]:
    """Rows in replay order, then the recorded results the replay did not produce.

    `tolerance`: percent of the recorded price a replayed price may deviate by unnoticed."""
    old = {r.result_id: r for r in recorded}
    rows: list[Row] = []
    seen: set[str] = set()
    for new in replayed:
        seen.add(new.result_id)
        before = old.get(new.result_id)
        if before is None:
            rows.append(Row(new.result_id, new.signal_id, new.instance, "new", replayed=new))
            continue
        changes = _outcome(before, new)
        prices, deviations = _prices(before, new, tolerance)
        outcome_changed = bool(changes) or len(prices) > len(deviations)
        verdict = "changed" if outcome_changed else "price" if deviations else "same"
        changes.update(prices)
        rows.append(
            Row(
                new.result_id,
                new.signal_id,
                new.instance,
                verdict,
                changes,
                before,
                new,
                deviations,
            )
        )
    for result_id, before in old.items():
        if result_id not in seen:
            rows.append(
                Row(result_id, before.signal_id, before.instance, "missing", recorded=before)
            )
    return rows


def summary(rows: Iterable[Row]) -> dict[str, int]:
    counts = Counter(row.verdict for row in rows)
    return {verdict: counts.get(verdict, 0) for verdict in VERDICTS}
