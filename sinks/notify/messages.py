"""What a batch of results and instance reports says to a person: few messages, grouped.

A broadcast to 200 accounts is one message (the counts by status and a line per account
that did not fill), never 200; a batch that would still send more than `max_messages`
sends one digest instead, so a storm of refusals cannot flood a chat.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from model import Action, InstanceReport, OrderStatus, ReportKind, Result
from sinks.notify.config import NotifyConfig

FAILURES = frozenset({OrderStatus.REJECTED, OrderStatus.FAILED})
SWITCHES = frozenset({Action.HALT, Action.RESUME})
ALARMS = frozenset(
    {ReportKind.CRASHED, ReportKind.RESTART_FAILED, ReportKind.NETWORK_ERROR,
     ReportKind.CONFIG_REFUSED, ReportKind.RISK_LIMIT}
)  # fmt: skip


class Level(StrEnum):
    """Apprise's notification types, which services show as colours or icons."""

    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    FAILURE = "failure"


@dataclass(frozen=True)
class Notification:
    title: str
    body: str
    level: Level


def wanted_result(result: Result, config: NotifyConfig) -> bool:
    """Whether this result calls for a message (its instance's filter already passed)."""
    if result.action in SWITCHES:
        return True
    if config.results == "none":
        return False
    return config.results == "all" or result.status in FAILURES


def wanted_report(report: InstanceReport, config: NotifyConfig) -> bool:
    if config.instances and report.instance not in config.instances:
        return False
    return report.kind in config.events


def notifications(
    results: Iterable[Result], reports: Iterable[InstanceReport], config: NotifyConfig
) -> list[Notification]:
    """One message per signal with a wanted result (counting all its results in the batch,
    listing the wanted ones), one for the wanted instance reports; one digest of them all
    past `max_messages`."""
    by_signal: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        if not config.instances or result.instance in config.instances:
            by_signal[result.signal_id].append(result)
    found = [
        _signal(signal_id, rs, [r for r in rs if wanted_result(r, config)], config)
        for signal_id, rs in by_signal.items()
        if any(wanted_result(r, config) for r in rs)
    ]
    events = [r for r in reports if wanted_report(r, config)]
    if events:
        found.append(_events(events, config))
    if len(found) <= config.max_messages:
        return found
    lines = [f"{n.title.removeprefix(config.title + ': ')}" for n in found]
    return [
        Notification(
            f"{config.title}: {len(found)} notifications",
            _listed(lines, config.max_lines),
            max((n.level for n in found), key=list(Level).index),
        )
    ]


def _signal(
    signal_id: str, results: list[Result], wanted: list[Result], config: NotifyConfig
) -> Notification:
    first = results[0]
    what = " ".join(str(x) for x in (first.action, first.signal_symbol or first.symbol) if x)
    counts = Counter(r.status.value for r in results)
    summary = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
    title = f"{config.title}: {what or 'signal'} from {first.source}: {summary}"
    lines = [_result_line(r) for r in sorted(wanted, key=lambda r: r.instance)]
    failed = any(r.status in FAILURES for r in results)
    level = Level.FAILURE if failed else Level.SUCCESS
    return Notification(title, f"signal {signal_id}\n{_listed(lines, config.max_lines)}", level)


def _result_line(result: Result) -> str:
    if result.status in FAILURES:
        return f"{result.instance}: {result.status} — {result.error or result.retcode_name}"
    done = f" {result.volume} lots" if result.volume is not None else ""
    at = f" at {result.price}" if result.price is not None else ""
    return f"{result.instance}: {result.status}{done}{at}"


def _events(reports: list[InstanceReport], config: NotifyConfig) -> Notification:
    lines = [
        f"{r.instance}: {r.kind} ({r.status})" + (f" — {r.error}" if r.error else "")
        for r in reports
    ]
    alarm = any(r.kind in ALARMS for r in reports)
    title = f"{config.title}: {len(reports)} instance event{'s' if len(reports) > 1 else ''}"
    return Notification(
        title, _listed(lines, config.max_lines), Level.WARNING if alarm else Level.INFO
    )


def _listed(lines: list[str], limit: int) -> str:
    shown = lines[:limit]
    if len(lines) > limit:
        shown.append(f"… and {len(lines) - limit} more")
    return "\n".join(shown)
