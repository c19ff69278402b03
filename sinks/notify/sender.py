"""Sending through Apprise: one URL reaches Telegram, Discord, Slack, e-mail, webhooks."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from model.errors import MissingExtra
from sinks.notify.messages import Notification

APPRISE_HINT = "notifications need Apprise: pip install 'eaflow[notify]'"


class Sender(Protocol):
    """Delivers one notification to every target; False when any target refused it."""

    def send(self, notification: Notification) -> bool: ...


class AppriseSender:
    """Example: ``AppriseSender(("json://127.0.0.1:8000/hook",)).send(notification)``.

    Blocking (HTTP, SMTP): the notifier calls it in a thread. A URL Apprise does not know
    is refused when built, naming its scheme only (URLs carry tokens).
    """

    def __init__(self, urls: tuple[str, ...]) -> None:
        try:
            import apprise
        except ImportError as error:
            raise MissingExtra(APPRISE_HINT) from error
        self._apprise: Any = apprise.Apprise()
        quiet = logging.getLogger("apprise")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)  # its refusal of a URL logs the URL, tokens and all
        try:
            added = [url for url in urls if self._apprise.add(url)]
        finally:
            quiet.setLevel(level)
        for url in urls:
            if url not in added:
                scheme = url.partition("://")[0] if "://" in url else "?"
                raise ValueError(f"notify_urls: {scheme}:// is not a URL Apprise can send to")

    def send(self, notification: Notification) -> bool:
        sent = self._apprise.notify(
            title=notification.title, body=notification.body, notify_type=notification.level.value
        )
        return bool(sent)
