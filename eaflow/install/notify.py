"""The `notify` worker: results and instance events sent through Apprise (docs/operations.md)."""

from __future__ import annotations

import re
from typing import Any

import structlog
from pydantic import ValidationError

from eaflow.install.pipeline import Pipeline
from eaflow.settings import Settings
from model import refusal_of
from sinks.notify.agent import GROUP, Notifier
from sinks.notify.config import NotifyConfig
from sinks.notify.sender import AppriseSender
from streams import Topic

log = structlog.get_logger(__name__)

SEPARATORS = re.compile(r"[\s,]+")


def notify_config(settings: Settings) -> NotifyConfig | None:
    """The notifier's configuration from EAFLOW_NOTIFY_*; None while no URL is set."""
    urls = tuple(u for u in SEPARATORS.split(settings.notify_urls or "") if u)
    if not urls:
        return None
    instances = tuple(i for i in SEPARATORS.split(settings.notify_instances) if i)
    try:
        return NotifyConfig(urls=urls, results=settings.notify_results, instances=instances)
    except ValidationError as error:
        field, rule = refusal_of(error)
        raise ValueError(f"notify_{field}: {rule}") from error


async def install_notify(p: Pipeline) -> None:
    config = notify_config(p.settings)
    if config is None:
        p.running.append("notify: off — set EAFLOW_NOTIFY_URLS (Apprise URLs)")
        log.warning("notify_off", hint="set EAFLOW_NOTIFY_URLS")
        return
    notifier = Notifier(AppriseSender(config.urls), config)
    topics: list[Topic[Any]] = [p.topics.rtrs, p.topics.ris]
    # A first start sends what comes from then on, not the history; later starts resume.
    p.app.agent(
        topics, group=GROUP, batch=True, dlq=False, start_id="$", batch_size=config.batch_size
    )(notifier.handle)
    p.running.append(
        f"notify: rtrs, ris → {len(config.urls)} Apprise URL(s), results: {config.results} "
        f"(group {GROUP})"
    )
