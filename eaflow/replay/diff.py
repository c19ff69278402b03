"""Compare replayed results with recorded ones, result by result (matched by result_id)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from model import Result

COMPARED = (
    "action",
    "symbol",
    "status",
    "retcode",
    "retcode_name",
    "volume",
    "requested_price",
    "price",
    "field",
    "error",
)
"""What a replay must reproduce. Tickets and times differ on a fresh simulator by nature."""

VERDICTS = ("same", "changed", "new", "missing")


def shown(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass
class Row:
    """One result: `same`, `changed` (with the fields that differ), `new` (only in the
    replay) or `missing` (only in the recording)."""

    result_id: str
    signal_id: str
    instance: str
    verdict: str
    changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    recorded: Result | None = None
    replayed: Result | None = None


def compare(recorded: Iterable[Result], replayed: Iterable[Result]) -> list[Row]:
    """Rows in replay order, then the recorded results the replay did not produce."""
    old = {r.result_id: r for r in recorded}
    rows: list[Row] = []
    seen: set[str] = set()
    for new in replayed:
        seen.add(new.result_id)
        before = old.get(new.result_id)
        if before is None:
            rows.append(Row(new.result_id, new.signal_id, new.instance, "new", replayed=new))
            continue
        changes = {
            name: (shown(getattr(before, name)), shown(getattr(new, name)))
            for name in COMPARED
            if getattr(before, name) != getattr(new, name)
        }
        verdict = "changed" if changes else "same"
        rows.append(Row(new.result_id, new.signal_id, new.instance, verdict, changes, before, new))
    for result_id, before in old.items():
        if result_id not in seen:
            rows.append(
                Row(result_id, before.signal_id, before.instance, "missing", recorded=before)
            )
    return rows


def summary(rows: Iterable[Row]) -> dict[str, int]:
    counts = Counter(row.verdict for row in rows)
    return {verdict: counts.get(verdict, 0) for verdict in VERDICTS}
