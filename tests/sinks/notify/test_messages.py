"""What the notifier says: one message per signal however many accounts, rules per kind
and instance, a digest past the cap."""

from __future__ import annotations

from model import Action, InstanceReport, InstanceStatus, OrderStatus, ReportKind, Result
from sinks.notify.config import NotifyConfig
from sinks.notify.messages import Level, notifications
from tests.sinks.conftest import fill

CONFIG = NotifyConfig(urls=("json://127.0.0.1/hook",))


def broadcast(signal: str, filled: int, rejected: int) -> list[Result]:
    """One signal's results on `filled + rejected` accounts."""
    results = [
        fill(n, instance=f"acct-{n:03d}", signal_id=signal, order_id=signal) for n in range(filled)
    ]
    for n in range(filled, filled + rejected):
        results.append(
            fill(n, instance=f"acct-{n:03d}", signal_id=signal, order_id=signal)
            .model_copy(update={"status": OrderStatus.REJECTED, "field": "max_volume",
                                "error": "max_volume: 0.5 lots is more than the 0.3"})
        )  # fmt: skip
    return results


def report(instance: str, kind: ReportKind, error: str | None = None) -> InstanceReport:
    return InstanceReport(instance=instance, kind=kind, status=InstanceStatus.RUNNING, error=error)


def test_a_broadcast_to_200_accounts_is_one_message_listing_the_ones_that_did_not_fill() -> None:
    [message] = notifications(broadcast("s1", 198, 2), [], CONFIG)
    assert message.title == "eaflow: open EURUSD from tradingview: filled 198, rejected 2"
    assert message.body.splitlines() == [
        "signal s1",
        "acct-198: rejected — max_volume: 0.5 lots is more than the 0.3",
        "acct-199: rejected — max_volume: 0.5 lots is more than the 0.3",
    ]
    assert message.level is Level.FAILURE


def test_fills_are_sent_only_when_asked_and_switches_always() -> None:
    fills = broadcast("s2", 3, 0)
    switch = fill(9, signal_id="s3").model_copy(
        update={"action": Action.HALT, "status": OrderStatus.MODIFIED, "volume": None}
    )
    assert [n.title for n in notifications([*fills, switch], [], CONFIG)] == [
        "eaflow: halt EURUSD from tradingview: modified 1"
    ]
    everything = CONFIG.model_copy(update={"results": "all"})
    [sent, _] = notifications([*fills, switch], [], everything)
    assert sent.body.splitlines()[1] == "acct-000: filled 0.10 lots at 1.38755"
    assert sent.level is Level.SUCCESS


def test_only_the_chosen_instances_and_event_kinds_are_sent() -> None:
    only = CONFIG.model_copy(update={"instances": ("acct-199",)})
    [message] = notifications(broadcast("s4", 198, 2), [], only)
    assert message.title.endswith("rejected 1")
    reports = [
        report("acct-199", ReportKind.HEARTBEAT),
        report("acct-199", ReportKind.RISK_LIMIT, "risk.daily_loss: lost 500.00"),
        report("acct-001", ReportKind.CRASHED),
    ]
    [events] = notifications([], reports, only)
    assert events.title == "eaflow: 1 instance event"
    assert events.body == "acct-199: risk_limit (running) — risk.daily_loss: lost 500.00"
    assert events.level is Level.WARNING


def test_past_max_messages_one_digest_is_sent() -> None:
    results = [r for s in range(7) for r in broadcast(f"d{s}", 1, 1)]
    [digest] = notifications(results, [], CONFIG.model_copy(update={"max_lines": 3}))
    assert digest.title == "eaflow: 7 notifications"
    assert digest.body.splitlines() == [
        "open EURUSD from tradingview: filled 1, rejected 1",
        "open EURUSD from tradingview: filled 1, rejected 1",
        "open EURUSD from tradingview: filled 1, rejected 1",
        "… and 4 more",
    ]
    assert digest.level is Level.FAILURE
