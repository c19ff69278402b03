"""`eaflow gateway` and `eaflow sources` as an operator runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import orjson
import redis
from typer.testing import CliRunner, Result

from eaflow.cli.main import app
from tests.redis_server import free_port


def eaflow(*args: str) -> Result:
    """Run a command in this process, as the console script would."""
    return CliRunner().invoke(app, list(args))


def test_gateway_prints_a_new_secret_once_serves_and_stops_on_sigterm(
    redis_url: str, redis_client: redis.Redis
) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "eaflow", "gateway", "--redis", redis_url, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ),
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/udf/time", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        source = orjson.loads(redis_client.hget("ea:sources", "tradingview") or b"{}")
        alert = f"tradingview,buy,EURUSD,risk=0.1,secret={source['secret']}"
        answer = httpx.post(f"http://127.0.0.1:{port}/webhook/tradingview", content=alert)
        assert answer.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert f"alert secret (source tradingview, printed once): {source['secret']}" in output
    assert redis_client.xlen("ea:rtss") == 1


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
    ) == (["demo-1", "demo-2"], ["tradingview"], 30, "price", "risk_percent")
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
