"""Every eaflow series reaches a real Prometheus server scraping a running worker."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from model import OrderStatus
from tests.e2e.conftest import seed, send_raw, wait_for_results, write_market
from tests.e2e.workers import Worker
from tests.redis_server import free_port
from tests.tools import needs, which

PROMETHEUS = which("prometheus")
pytestmark = [pytest.mark.slow, needs("prometheus")]

SERIES = (
    "eaflow_signals_received_total",
    "eaflow_signals_rejected_total",
    "eaflow_orders_sent_total",
    "eaflow_results_total",
    "eaflow_signal_to_result_seconds_bucket",
    "eaflow_stream_length",
    "eaflow_stream_group_lag",
    "eaflow_stream_group_pending",
    "eaflow_stream_dlq_length",
    "eaflow_instance_up",
    "eaflow_instance_equity",
    "eaflow_config_version_applied",
    "eaflow_redis_reconnects_total",
    "eaflow_state_sync_enabled",
)


def wait_for(check: Callable[[], Any], timeout: float = 30, what: str = "it") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except httpx.HTTPError:
            found = None
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no {what} within {timeout}s")


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Callable[[int], str]]:
    """Start Prometheus scraping 127.0.0.1:<port> every second; yields its base URL."""
    started: list[subprocess.Popen[bytes]] = []

    def start(target: int) -> str:
        assert PROMETHEUS is not None
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: eaflow\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{target}']\n"
        )
        port = free_port()
        with (tmp_path / "prometheus.log").open("wb") as log:  # the child keeps its own copy
            started.append(
                subprocess.Popen(
                    [
                        PROMETHEUS,
                        f"--config.file={config}",
                        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                        f"--web.listen-address=127.0.0.1:{port}",
                        "--log.level=warn",
                    ],
                    stdout=log,
                    stderr=log,
                )
            )
        return f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=30)


def test_prometheus_gets_every_eaflow_series_from_a_worker(
    redis_url: str,
    redis_client: redis.Redis,
    workers: Callable[..., Worker],
    prometheus: Callable[[int], str],
    tmp_path: Path,
) -> None:
    seed(redis_url, 2)
    write_market(redis_client)
    port = free_port()
    workers(
        "rtss",
        "orders",
        extra=("--metrics-port", str(port)),
        env={"EAFLOW_DATA_DIR": str(tmp_path)},
    )
    wait_for(
        lambda: httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 200,
        what="metrics endpoint",
    )
    send_raw(
        redis_client,
        {
            "order_id": "m1",
            "symbol": "EURUSD",
            "order_type": "buy",
            "volume": "0.01",
            "instances": ["demo-1"],
        },
    )
    send_raw(
        redis_client,
        {
            "order_id": "m2",
            "symbol": "EURUSD",
            "order_type": "buy",
            "volume": "0.015",
            "instances": ["demo-2"],
        },
    )
    found = wait_for_results(redis_client, 2)
    assert {r.order_id: r.status for r in found} == {
        "m1": OrderStatus.FILLED,
        "m2": OrderStatus.REJECTED,
    }
    base = prometheus(port)

    def query(expression: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{base}/api/v1/query", params={"query": expression}).json()
        assert answer["status"] == "success", answer
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    for name in SERIES:
        samples = wait_for(partial(query, name), what=name)
        assert all(s["metric"]["job"] == "eaflow" for s in samples)
    rejected = query('eaflow_signals_rejected_total{field="volume"}')
    assert float(rejected[0]["value"][1]) == 1
    filled = query('eaflow_results_total{status="filled",retcode="10009"}')
    assert float(filled[0]["value"][1]) == 1
    equity = query('eaflow_instance_equity{instance_id="demo-2"}')
    assert float(equity[0]["value"][1]) == 10_000
    up = query("sum(eaflow_instance_up)")
    assert float(up[0]["value"][1]) == 2
