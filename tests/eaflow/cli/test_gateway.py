"""`eaflow gateway` and `eaflow sources` as an operator runs them."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import redis
from typer.testing import CliRunner, Result

from eaflow.cli.main import app
from tests.redis_server import free_port


def eaflow(*args: str) -> Result:
    """Run a command in this process, as the console script would."""
    return CliRunner().invoke(app, list(args))


def up(base: str, timeout: float = 30) -> None:
    """Wait for the gateway to listen (`/healthz` needs no token)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).is_success:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"{base} did not answer within {timeout}s")


def test_gateway_prints_a_new_secret_once_serves_and_stops_on_sigterm(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "eaflow", "gateway", "--redis", redis_url, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "EAFLOW_DATA_DIR": str(tmp_path / "var"), "COLUMNS": "400"},
    )
    assert process.stdout is not None
    base = f"http://127.0.0.1:{port}"
    try:
        lines: list[str] = []
        while not any(line.startswith("chart: ") for line in lines):  # printed once serving
            line = process.stdout.readline()
            assert line or process.poll() is None, "".join(lines)
            lines.append(line)
        up(base)
        source = orjson.loads(redis_client.hget("ea:sources", "tradingview") or b"{}")
        alert = f"tradingview,buy,EURUSD,risk=0.1,secret={source['secret']}"
        answer = httpx.post(f"{base}/webhook/tradingview", content=alert)
        assert answer.status_code == 200
        [link] = [line.removeprefix("chart: ").strip() for line in lines if "chart: " in line]
        assert link.startswith(f"{base}/?token=")
        with httpx.Client(follow_redirects=True) as browser:  # the printed link opens the chart
            assert httpx.get(f"{base}/api/instances").status_code == 401
            page = browser.get(link)
            assert page.status_code == 200 and "eaflow" in page.text
            assert browser.get(f"{base}/api/instances").status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        rest = process.stdout.read()  # through the reader's buffer (communicate would skip it)
        process.stdout.close()
        process.wait(timeout=20)
    output = "".join(lines) + rest
    assert process.returncode == 0, output
    assert f"alert secret (source tradingview, printed once): {source['secret']}" in output
    assert redis_client.xlen("ea:rtss") == 1
    token = tmp_path / "var" / "gateway" / "viewer-token"  # kept for the next start
    assert link.endswith(token.read_text().strip())
    assert stat.S_IMODE(token.stat().st_mode) == 0o600


def test_sources_add_list_rotate_remove(redis_url: str, redis_client: redis.Redis) -> None:
    added = eaflow(
        "sources",
        "add",
        "desk-1",
        "--redis",
        redis_url,
        "--instances",
        "demo-1,demo-2",
        "--allow",
        "tradingview",
        "--rate-limit",
        "30",
        "--stops-unit",
        "price",
        "--volume-type",
        "risk_percent",
        "--entry-unit",
        "pips",
    )
    assert added.exit_code == 0, added.output
    stored = orjson.loads(redis_client.hget("ea:sources", "desk-1") or b"{}")
    assert added.stdout.strip() == f"source desk-1: secret {stored['secret']}"
    assert (
        stored["instances"],
        stored["allow"],
        stored["rate_limit"],
        stored["stops_unit"],
        stored["volume_type"],
        stored["entry_unit"],
    ) == (["demo-1", "demo-2"], ["tradingview"], 30, "price", "risk_percent", "pips")
    listed = eaflow("sources", "list", "--redis", redis_url)
    assert "desk-1" in listed.stdout and stored["secret"] not in listed.stdout
    assert (
        stored["secret"] in eaflow("sources", "list", "--redis", redis_url, "--show-secrets").stdout
    )
    rotated = eaflow("sources", "rotate", "desk-1", "--redis", redis_url)
    fresh = orjson.loads(redis_client.hget("ea:sources", "desk-1") or b"{}")
    assert fresh["secret"] != stored["secret"] and fresh["secret"] in rotated.stdout
    refused = eaflow("sources", "add", "desk-2", "--redis", redis_url, "--allow", "nowhere")
    assert refused.exit_code != 0 and "allow" in refused.output
    assert eaflow("sources", "remove", "desk-1", "--redis", redis_url).exit_code == 0
    assert eaflow("sources", "remove", "desk-1", "--redis", redis_url).exit_code != 0
    assert redis_client.hlen("ea:sources") == 0
