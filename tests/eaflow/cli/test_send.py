"""`eaflow send` failures an operator meets: a file it cannot read, a Redis it cannot reach."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from eaflow.cli.main import app

SIGNAL = '{"symbol": "EURUSD", "order_type": "buy", "volume": 0.01}'


def test_an_unreadable_file_is_refused_by_name(redis_url: str, tmp_path: Path) -> None:
    cli = CliRunner(env={"EAFLOW_REDIS_URL": redis_url})
    for source in (f"@{tmp_path / 'missing.json'}", f"@{tmp_path}"):
        done = cli.invoke(app, ["send", source])
        assert done.exit_code == 2 and done.exception is not None
        assert "cannot read" in done.output


def test_an_unreachable_redis_is_one_line_not_a_traceback() -> None:
    """Found by the chaos suite: a send during a Redis restart printed a traceback."""
    cli = CliRunner(env={"EAFLOW_REDIS_URL": "redis://127.0.0.1:1/0"})
    done = cli.invoke(app, ["send", SIGNAL])
    assert done.exit_code == 1
    assert done.output.startswith("redis: ") and "Traceback" not in done.output
