"""Operator input on the command line: `eaflow send` JSON and `eaflow config set` FIELD=VALUE.

Whatever is typed, the command sends, or refuses with exit 2 naming the field and the rule;
it never ends in a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner
from typer.testing import Result as CliResult

from eaflow.cli.main import app
from model import TradingConfig
from tests.fuzz.strategies import FUZZ, WORDS, json_values, signal_like

CLI = settings(FUZZ, max_examples=100)  # each example runs a whole command


@pytest.fixture
def cli(redis_url: str, tmp_path: Path) -> CliRunner:
    return CliRunner(
        env={"EAFLOW_REDIS_URL": redis_url, "EAFLOW_CONFIG_DB": str(tmp_path / "eaflow.duckdb")}
    )


def sent_or_refused(done: CliResult) -> None:
    """Exit 0, or 2 with `...: rule`; anything else (a traceback) fails."""
    if done.exception is not None and not isinstance(done.exception, SystemExit):
        raise AssertionError(f"unhandled {done.exception!r}: {done.output[-1000:]}")
    assert done.exit_code in (0, 2), done.output[-1000:]
    if done.exit_code == 2:  # typer's usage error box or our "refused: field: rule"
        assert "refused: " in done.output or "Invalid value" in done.output, done.output
        assert ": " in done.output, done.output[-1000:]


@CLI
@given(body=signal_like | json_values | st.lists(signal_like, max_size=3))
def test_send_any_json(cli: CliRunner, body: Any) -> None:
    sent_or_refused(cli.invoke(app, ["send", "--", json.dumps(body)]))


@CLI
@given(text=st.text(max_size=60) | st.sampled_from(["@", "@/nonexistent", "-", "", "[", "{}"]))
def test_send_any_text(cli: CliRunner, text: str) -> None:
    sent_or_refused(cli.invoke(app, ["send", "--", text], input=""))


paths = st.sampled_from(list(TradingConfig.model_fields)) | st.sampled_from(
    [
        "symbols.XAUUSD.lot_size",
        "symbols.EURUSD.trailing_stop.distance",
        "trailing_stop.enabled",
        "trailing_stop.nope",
        "symbols..x",
        ".",
        "",
    ]
)
values = st.sampled_from(WORDS) | st.text(max_size=12) | json_values.map(json.dumps)
assignments = st.lists(
    st.builds(lambda p, v: f"{p}={v}", paths, values) | st.text(max_size=15), min_size=1, max_size=3
)


@CLI
@given(items=assignments, instance=st.none() | st.sampled_from(["demo-1", "ghost"]))
def test_config_set_any_assignment(cli: CliRunner, items: list[str], instance: str | None) -> None:
    scope = ["-i", instance] if instance else []
    sent_or_refused(cli.invoke(app, ["config", "set", *scope, "--", *items]))
