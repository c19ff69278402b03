"""Loss-limit transitions from `ris` recorded in the configuration history, as the gateway
records them: a versioned row of the instance's scope that changes no field."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from eaflow.config import ConfigService
from eaflow.config.risk import GROUP, RiskHistory
from model import InstanceReport, InstanceStatus, ReportKind
from model.topics import Topics
from processors.registry import InstanceRegistry
from streams import App, Event, Outbox
from tests.eaflow.config.conftest import PREFIX
from tests.streams.conftest import settings, until


@pytest.fixture
async def app(redis_url: str) -> AsyncIterator[App]:
    app = App(settings(redis_url, prefix=PREFIX))
    yield app
    await app.stop()


def report(kind: ReportKind, instance: str, text: str) -> dict[str, object]:
    found = InstanceReport(
        instance=instance, kind=kind, status=InstanceStatus.RUNNING, equity=9_940.0, error=text
    )
    return found.model_dump(mode="json")


async def test_a_breach_and_its_lift_are_versions_of_the_instances_history(
    app: App, service: ConfigService, registry: InstanceRegistry
) -> None:
    before = await service.set("a", {"risk.daily_loss": "50"}, "ops")
    topics = Topics(app)
    app.agent(topics.ris, group=GROUP, batch=True, dlq=False, start_id="0")(
        RiskHistory(service).handle
    )
    hit = "risk.daily_loss: a lost 60.00 USD on 2026-12-06, over its daily_loss 50: halted"
    await topics.ris.send(report(ReportKind.HEARTBEAT, "a", ""))  # not a transition
    await topics.ris.send(report(ReportKind.RISK_LIMIT, "a", hit))
    await topics.ris.send(report(ReportKind.RISK_LIMIT, "gone", hit))  # no such instance
    await topics.ris.send(report(ReportKind.RISK_CLEARED, "a", "lifted by an operator (ops)"))
    await app.start()

    async def recorded() -> bool:
        return len(await service.history("a")) == 3

    await until(recorded, "the transitions in the history")
    lifted, breached, rules = await service.history("a")
    assert rules.version == before.version
    assert (breached.version, breached.actor, breached.note) == (before.version + 1, "risk", hit)
    assert breached.change["risk"]["event"] == "limit_hit"
    assert breached.change["risk"]["equity"] == 9_940.0
    assert breached.before == breached.after == {"risk": {"daily_loss": "50"}}  # no field moved
    assert (lifted.version, lifted.note) == (before.version + 2, "lifted by an operator (ops)")
    assert lifted.change["risk"]["event"] == "cleared"
    assert await registry.version() == lifted.version  # published: applied stays current
    assert [c.scope for c in await service.history()][:3] == ["a", "a", "a"]


async def test_a_retried_batch_records_each_entry_once(app: App, service: ConfigService) -> None:
    """The store failed after the first report of a batch: the retry skips what it wrote."""
    topics = Topics(app)
    history = RiskHistory(service)
    hit = report(ReportKind.RISK_LIMIT, "b", "risk.daily_loss: b lost too much: halted")
    event = Event(value=hit, id="1-0", stream=f"{PREFIX}ris", topic=topics.ris, raw=b"")
    outbox = Outbox()
    await history.handle([event], outbox)
    await history.handle([event], outbox)
    recorded = [c for c in await service.history("b") if "risk" in c.change]
    assert [c.change["risk"]["entry"] for c in recorded] == ["1-0"]
