"""The example strategy end to end (examples/strategy): `eaflow run --redis` on a Redis 7
replaying ticks, the strategy as a Faust worker; its signals are routed within its
source's binding and come back as results, which the strategy reads too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from tests.eaflow.faust.conftest import ROOT, wait_for
from tests.redis_server import free_port

pytestmark = pytest.mark.slow


def test_the_strategy_trades_on_eaflow_and_reads_its_results(
    redis7_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    environ = {**os.environ, "EAFLOW_HTTP_PORT": str(free_port()), "COLUMNS": "300"}
    logs = {name: (tmp_path / f"{name}.log").open("wb") for name in ("eaflow", "strategy")}
    eaflow = subprocess.Popen(
        [sys.executable, "-m", "eaflow", "run", "--redis", redis7_url, "--speed", "120",
         "--data-dir", str(tmp_path / "var")],
        stdout=logs["eaflow"], stderr=subprocess.STDOUT, env=environ,
    )  # fmt: skip
    strategy: subprocess.Popen[bytes] | None = None

    def tail() -> str:
        return "\n".join(
            f"--- {name}\n{(tmp_path / f'{name}.log').read_text(errors='replace')[-3000:]}"
            for name in logs
        )

    try:
        wait_for(lambda: redis_client.hlen("ea:instances") >= 3, "eaflow's instances", 90, tail)
        added = subprocess.run(
            [sys.executable, "-m", "eaflow", "sources", "add", "strategy", "--redis", redis7_url,
             "--instances", "demo-2"],
            capture_output=True, env=environ, timeout=60, check=False,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        strategy = subprocess.Popen(
            [sys.executable, "-m", "faust", "-A", "examples.strategy", "worker", "-l", "info",
             "--web-port", str(free_port()), "--web-host", "127.0.0.1"],
            stdout=logs["strategy"], stderr=subprocess.STDOUT, cwd=ROOT,
            env={**environ, "EAFLOW_REDIS_URL": redis7_url, "STRATEGY_FAST": "2",
                 "STRATEGY_SLOW": "4"},
        )  # fmt: skip
        wait_for(lambda: len(results_of(redis_client)) >= 2, "two results of the strategy", 150,
                 tail)  # fmt: skip
        wait_for(lambda: b"result filled" in (tmp_path / "strategy.log").read_bytes(),
                 "the strategy reading its results", 60, tail)  # fmt: skip
    finally:
        for process in (strategy, eaflow):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=60)
        for handle in logs.values():
            handle.close()
    results = results_of(redis_client)
    assert {r["instance"] for r in results} == {"demo-2"}  # its binding, nothing else
    assert {r["status"] for r in results} == {"filled"}, results
    signals = [s for s in read(redis_client, "ea:rtss") if s["source"] == "strategy"]
    assert len({s["signal_id"] for s in signals}) == len(signals) >= 2
    assert all(s["signal_id"].startswith("ma-EURUSD-") for s in signals)


def read(client: redis.Redis, key: str) -> list[dict[str, Any]]:
    entries: Any = client.xrange(key)
    return [orjson.loads(fields[b"d"]) for _, fields in entries]


def results_of(client: redis.Redis) -> list[dict[str, Any]]:
    return [r for r in read(client, "ea:rtrs") if r.get("source") == "strategy"]
