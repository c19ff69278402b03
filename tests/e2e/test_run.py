"""`eaflow run`, the README's main job: embedded Redis, demo accounts on recorded ticks, the
order path, the gateway, and the result sinks (with the notifier) in a process of their own;
Ctrl-C stops all. The chart link it prints opens the chart; the files holding secrets are
its user's alone."""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson
import pytest
import redis

from tests.redis_server import free_port
from tests.sinks.notify.receiver import Receiver
from tests.tools import missing

STARTED = re.compile(r"unix://\S+redis\.socket")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    if importlib.util.find_spec("apprise") is None:
        missing("apprise", "pip install 'eaflow[notify]'")
    found = Receiver()
    yield found
    found.close()


def test_run_trades_a_webhook_alert_records_and_notifies_it_then_stops_on_ctrl_c(
    tmp_path: Path, receiver: Receiver
) -> None:
    port = free_port()
    notify = {"EAFLOW_NOTIFY_URLS": receiver.url, "EAFLOW_NOTIFY_RESULTS": "all"}
    process = subprocess.Popen(
        [sys.executable, "-m", "eaflow", "run", "--data-dir", str(tmp_path / "var")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "EAFLOW_HTTP_PORT": str(port), "COLUMNS": "400", **notify},
    )
    assert process.stdout is not None
    output: list[str] = []
    try:
        url = None
        deadline = time.monotonic() + 120
        while "chart: " not in "".join(output) and time.monotonic() < deadline:
            line = process.stdout.readline()  # what runs, printed once started; the link last
            assert line or process.poll() is None, "".join(output)
            output.append(line)
            found = STARTED.search(line)
            url = found.group(0) if found else url
        assert url is not None, "".join(output)
        assert "alert secret (source tradingview, printed once)" in "".join(output)
        assert "its own process" in "".join(output)  # the sinks' line
        assert "notify: rtrs, ris → 1 Apprise URL(s), in the sinks' process" in "".join(output)
        client = redis.Redis.from_url(url)
        while not _has_group(client, "ea:rtrs", b"notify") and time.monotonic() < deadline:
            time.sleep(0.2)  # the notifier sends what comes once its group exists
        secret = orjson.loads(client.hget("ea:sources", "tradingview") or b"{}")["secret"]
        body = f"tradingview,buy,EURUSD,vol_lots=0.01,instances=demo-1,secret={secret}"
        answer = None
        while time.monotonic() < deadline:  # the gateway starts with the app
            try:
                answer = httpx.post(f"http://127.0.0.1:{port}/webhook/tradingview", content=body)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert answer is not None and answer.status_code == 200, (
            body,
            answer.text if answer else "",
        )
        [link] = [line.split("chart: ", 1)[1].strip() for line in output if "chart: " in line]
        assert link.startswith(f"http://127.0.0.1:{port}/?token="), link
        with httpx.Client(follow_redirects=True) as browser:  # the printed link opens the chart
            assert browser.get(f"http://127.0.0.1:{port}/api/instances").status_code == 401
            assert browser.get(link).status_code == 200
            assert len(browser.get(f"http://127.0.0.1:{port}/api/instances").json()) == 3
        signal_id = answer.json()["signal_id"]
        result = None
        while result is None and time.monotonic() < deadline:
            entries: Any = client.xrange("ea:rtrs")
            for _, fields in entries:
                found_result = orjson.loads(fields[b"d"])
                if found_result["signal_id"] == signal_id:
                    result = found_result
            time.sleep(0.1)
        assert result is not None and result["status"] == "filled", result
        rows: list[tuple[str, str]] = []
        database = tmp_path / "var" / "eaflow.duckdb"
        while not rows and time.monotonic() < deadline:  # written by the sinks' process
            time.sleep(0.5)
            rows = _rows(database, signal_id)
        assert rows == [(result["order_id"], "filled")]
        while not receiver.bodies and time.monotonic() < deadline:
            time.sleep(0.2)
        [message] = receiver.bodies
        assert message["title"] == "eaflow: open EURUSD from tradingview: filled 1", message
        assert "demo-1: filled 0.01 lots at" in message["message"], message
        client.close()
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C: the app, the sinks and Redis stop
        rest, _ = process.communicate(timeout=60)
        output.append(rest)
    assert process.returncode == 0, "".join(output)
    private = [tmp_path / "var" / "redis", tmp_path / "var" / "gateway"]
    for path in [p for folder in private for p in (folder, *folder.rglob("*"))]:
        mode = stat.S_IMODE(path.stat().st_mode)  # the sources' secrets are in there
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    sinks = subprocess.run(["pgrep", "-f", f"worker rtrs.*{tmp_path}"], capture_output=True)
    assert sinks.stdout == b""  # the sinks' process stopped with it


def test_run_refuses_a_notify_url_apprise_cannot_send_to_before_starting(
    tmp_path: Path,
) -> None:
    if importlib.util.find_spec("apprise") is None:
        missing("apprise", "pip install 'eaflow[notify]'")
    done = subprocess.run(
        [sys.executable, "-m", "eaflow", "run", "--data-dir", str(tmp_path / "var")],
        capture_output=True,
        text=True,
        env={**os.environ, "EAFLOW_NOTIFY_URLS": "nosuch://token@host", "COLUMNS": "200"},
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "notify_urls: nosuch:// is not a URL Apprise can send to" in done.stderr
    assert "token" not in done.stderr  # URLs carry tokens: only the scheme is named
    assert not (tmp_path / "var" / "redis").exists()  # refused before anything started


def _has_group(client: redis.Redis, stream: str, group: bytes) -> bool:
    try:
        groups: Any = client.xinfo_groups(stream)
    except redis.ResponseError:  # no stream yet
        return False
    return any(found["name"] == group for found in groups)


def _rows(database: Path, signal_id: str) -> list[tuple[str, str]]:
    """The results of `signal_id` in DuckDB (nothing while the file is locked or empty)."""
    if not database.exists():
        return []
    try:
        with duckdb.connect(str(database), read_only=True) as con:
            found = con.execute(
                "SELECT order_id, status FROM results WHERE signal_id = ?", [signal_id]
            ).fetchall()
    except duckdb.Error:
        return []
    return [(str(order_id), str(status)) for order_id, status in found]
