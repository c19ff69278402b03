"""`Notifier`: the batch agent on `rtrs` and `ris` (its own consumer group, `notify`).

The runtime acks a batch only when the handler returns and retries it (with backoff,
never dead-lettering: `dlq=False`) when it raises, so while the notification service is
down nothing is lost: the entries wait in the group, and `rtrs` is trimmed only below
what every group acked. Delivery is at least once: a batch retried after some of its
messages went out sends those again. The pipeline never waits for it: the notifier is a
worker of its own, and sends from a thread.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog
from pydantic import ValidationError

from model import InstanceReport, Result
from sinks.metrics import NOTIFICATIONS
from sinks.notify.config import NotifyConfig
from sinks.notify.messages import notifications
from sinks.notify.sender import Sender
from streams import Event, Outbox

log = structlog.get_logger(__name__)

GROUP = "notify"


class NotifyFailed(RuntimeError):
    """A target refused a notification: the batch is retried."""


class Notifier:
    def __init__(self, sender: Sender, config: NotifyConfig) -> None:
        self.sender = sender
        self.config = config
        self._last_round = -float("inf")  # monotonic time the last messages went out

    async def handle(self, events: list[Event[Any]], out: Outbox) -> None:
        results: list[Result] = []
        reports: list[InstanceReport] = []
        for event in events:
            value = event.value
            if isinstance(value, Result):
                results.append(value)
                continue
            try:
                reports.append(InstanceReport.model_validate(value))
            except ValidationError:  # not a report this version knows: nothing to say
                log.warning("notify_report_skipped", stream=event.stream, id=event.id)
        found = notifications(results, reports, self.config)
        if not found:
            return
        wait = self._last_round + self.config.min_interval - time.monotonic()
        if wait > 0:  # the rate limit: one round of messages per min_interval
            await asyncio.sleep(wait)
        self._last_round = time.monotonic()
        for notification in found:
            if not await asyncio.to_thread(self.sender.send, notification):
                NOTIFICATIONS.labels(outcome="failed").inc()
                log.warning("notify_failed", title=notification.title)
                raise NotifyFailed(f"not delivered: {notification.title}")
            NOTIFICATIONS.labels(outcome="sent").inc()
