"""`eaflow worker notify` refuses what it cannot send to, before it starts."""

from __future__ import annotations

import importlib.util

from typer.testing import CliRunner

from eaflow.cli.main import app


def test_an_unknown_service_or_a_missing_apprise_is_refused_with_the_reason(
    redis_url: str,
) -> None:
    runner = CliRunner(env={"EAFLOW_NOTIFY_URLS": "nope://token@host"})
    done = runner.invoke(app, ["worker", "notify", "--redis", redis_url])
    if importlib.util.find_spec("apprise") is None:
        assert done.exit_code == 1, done.output
        assert "notifications need Apprise: pip install 'eaflow[notify]'" in done.output
    else:
        assert done.exit_code == 2, done.output
        assert "notify_urls: nope:// is not a URL Apprise can send to" in done.output
        assert "token" not in done.output  # URLs carry secrets: only the scheme is named
