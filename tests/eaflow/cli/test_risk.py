"""`eaflow risk show|lift` on a real Redis, as an operator types it."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from typer.testing import CliRunner

from eaflow.cli.main import app
from model import InstanceReport, ReportKind


@pytest.fixture
def cli(redis_url: str) -> CliRunner:
    return CliRunner(env={"EAFLOW_REDIS_URL": redis_url})


def test_show_then_lift_a_breach(cli: CliRunner, redis_client: redis.Redis) -> None:
    shown = cli.invoke(app, ["risk", "show", "demo-1"])
    assert shown.exit_code == 0 and "no risk record" in shown.output
    breach = '{"rule": "risk.daily_loss", "period": "2026-12-07"}'
    redis_client.hset(
        "ea:risk:demo-1", mapping={"start:2026-12-07": "9987.00", "breach:2026-12-07": breach}
    )
    shown = cli.invoke(app, ["risk", "show", "demo-1"])
    assert shown.exit_code == 0, shown.output
    assert "start:2026-12-07" in shown.output and "9987.00" in shown.output
    assert "risk.daily_loss" in shown.output
    lifted = cli.invoke(app, ["risk", "lift", "demo-1"])
    assert lifted.exit_code == 0 and "lifted" in lifted.output
    assert not redis_client.exists("ea:risk:demo-1")
    entries: Any = redis_client.xrange("ea:ris")
    [report] = [InstanceReport.model_validate_json(fields[b"d"]) for _, fields in entries]
    assert (report.instance, report.kind) == ("demo-1", ReportKind.RISK_CLEARED)
    assert str(report.error).startswith("lifted by an operator")
    again = cli.invoke(app, ["risk", "lift", "demo-1"])
    assert again.exit_code == 1 and "no risk record to lift" in again.output
