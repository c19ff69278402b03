"""Loss-limit transitions in the configuration history: the router writes each breach and
its end to `ris` (it runs without DuckDB); the `rtrs` worker, which writes eaflow's DuckDB
file, records them as versions of the instance's scope, so `eaflow config history` shows
when an account was held and released beside the changes that set its rules."""

from __future__ import annotations

from typing import Any

import structlog
from pydantic import ValidationError

from eaflow.config.scopes import ConfigRefused
from eaflow.config.service import ConfigService
from model import InstanceReport, ReportKind
from streams import Event, Outbox

log = structlog.get_logger(__name__)

GROUP = "config-history"
"""The consumer group of `ris` that records the transitions."""
RECORDED = {ReportKind.RISK_LIMIT: "limit_hit", ReportKind.RISK_CLEARED: "cleared"}
RECENT = 20
"""History rows searched for an entry already recorded (a retried batch's)."""
ACTOR = "risk"
"""The history's actor of a transition (a lift's note names the operator)."""


class RiskHistory:
    """Example: ``app.agent(topics.ris, group=GROUP, batch=True)(RiskHistory(service).handle)``."""

    def __init__(self, service: ConfigService) -> None:
        self.service = service

    async def handle(self, events: list[Event[Any]], out: Outbox) -> None:
        """One history row per `risk_limit` / `risk_cleared` report; other reports pass.
        A failing store raises, so the batch stays pending and is retried; a row names its
        `ris` entry, so a retry records each entry once."""
        for event in events:
            try:
                report = InstanceReport.model_validate(event.value)
            except ValidationError:
                log.warning("risk_history_skipped", stream=event.stream, id=event.id)
                continue
            transition = RECORDED.get(report.kind)
            if transition is None:
                continue
            if await self._recorded(report.instance, event.id):
                continue  # a batch retried after it recorded this one
            change = {
                "risk": {
                    "event": transition,
                    "at": report.ts,
                    "equity": report.equity,
                    "entry": event.id,
                }
            }
            try:
                applied = await self.service.record(
                    report.instance, change, ACTOR, report.error or ""
                )
            except ConfigRefused as refused:  # an instance the configuration does not know
                log.warning("risk_history_refused", instance=report.instance, error=str(refused))
                continue
            log.info(
                "risk_history",
                instance=report.instance,
                transition=transition,
                version=applied.version,
            )

    async def _recorded(self, instance: str, entry: str) -> bool:
        """Whether the `ris` entry is among the instance's recent history rows."""
        recent = await self.service.history(instance, limit=RECENT)
        return any(c.change.get("risk", {}).get("entry") == entry for c in recent)
