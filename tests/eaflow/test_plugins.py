"""Plugins: entry points loaded (or refused with a reason), merged with the built-in workers,
and the example package in examples/plugin found, listed and run by the CLI."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from importlib.metadata import EntryPoint, PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from eaflow.install.pipeline import Pipeline, build_pipeline
from eaflow.plugins import Plugin, discover, load, with_plugins
from eaflow.settings import Settings
from sinks.lag import sink_lag
from tests.e2e.conftest import seed, write_market
from tests.e2e.workers import Worker, eaflow
from tests.sinks.conftest import fill

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "plugin"
DOC = ROOT / "docs" / "plugins.md"


async def install_nothing(p: Pipeline) -> None:
    p.running.append("nothing")


GOOD = Plugin(install=install_nothing, reads=("rtrs",), writes=(), description="reads results")
NOT_A_PLUGIN = object()


def entry(name: str, attribute: str) -> tuple[EntryPoint, str]:
    return EntryPoint(name, f"{__name__}:{attribute}", "eaflow.sinks"), "sink"


def test_entry_points_load_or_say_why_not() -> None:
    broken = EntryPoint("broken", "no_such_module:plugin", "eaflow.processors")
    found = discover(
        [
            entry("good", "GOOD"),
            entry("odd", "NOT_A_PLUGIN"),
            entry("gone", "MISSING"),
            (broken, "processor"),
        ]
    )
    by_name = {f.name: f for f in found}
    assert [f.name for f in found] == ["broken", "gone", "good", "odd"]
    assert by_name["good"].plugin is GOOD and by_name["good"].error is None
    assert by_name["odd"].error == "must name an eaflow.plugins.Plugin, got object"
    assert by_name["gone"].error is not None and "import failed" in by_name["gone"].error
    assert by_name["broken"].error == "import failed: No module named 'no_such_module'"


def test_built_in_workers_win_over_plugins_of_the_same_name() -> None:
    async def builtin(p: Pipeline) -> None:
        pass

    found = [load(*entry("rtrs", "GOOD")), load(*entry("extra", "GOOD")), load(*entry("x", "Y"))]
    merged = with_plugins({"rtrs": builtin}, found)
    assert set(merged) == {"rtrs", "extra"} and merged["rtrs"] is builtin


@pytest.fixture(scope="module")
def example_installed() -> None:
    """The example package, installed editable into this venv when it is not yet."""
    try:
        distribution("eaflow-trading-hours")
    except PackageNotFoundError:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", str(EXAMPLE)],
            check=True,
            timeout=300,
        )


@pytest.mark.usefixtures("example_installed")
def test_eaflow_plugins_lists_the_example_with_its_topics() -> None:
    listed = eaflow("plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    plugins = {p["name"]: p for p in orjson.loads(listed.stdout)}
    assert plugins["trading-hours"] == {
        "name": "trading-hours",
        "kind": "processor",
        "target": "eaflow_trading_hours:plugin",
        "package": "eaflow-trading-hours 0.1.0",
        "reads": ["rtss:in"],
        "writes": ["rtss", "rtrs"],
        "description": "rejects signals created outside trading hours (EAFLOW_TRADING_HOURS, UTC)",
        "start": "all",
        "error": None,
    }
    table = eaflow("plugins", env={"COLUMNS": "200"})
    assert "trading-hours" in table.stdout and "rtss:in" in table.stdout


@pytest.mark.usefixtures("example_installed")
def test_the_example_passes_its_own_tests() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.usefixtures("example_installed")
def test_eaflow_worker_runs_the_plugin_like_a_built_in(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    seed(redis_url, 1)
    write_market(redis_client)
    worker = Worker(
        ["trading-hours", "rtss", "orders"],
        redis_url,
        tmp_path / "worker.log",
        env={"EAFLOW_TRADING_HOURS": "mon-fri 07:00-21:00"},
    ).start()
    try:
        bodies = [
            ("in-hours", 1_715_072_400.0),  # Tuesday 2024-05-07 09:00 UTC
            ("night", 1_715_122_800.0),  # Tuesday 23:00 UTC
        ]
        for signal_id, created in bodies:
            body = {
                "signal_id": signal_id,
                "symbol": "EURUSD",
                "order_type": "buy",
                "volume": "0.1",
                "instances": ["demo-1"],
                "created_at": created,
            }
            redis_client.xadd("ea:rtss:in", {"d": orjson.dumps(body)})
        statuses: dict[str, Any] = {}
        deadline = time.monotonic() + 60
        while len(statuses) < 2 and time.monotonic() < deadline and worker.alive:
            entries: Any = redis_client.xrange("ea:rtrs")
            statuses = {
                orjson.loads(f[b"d"])["signal_id"]: orjson.loads(f[b"d"]) for _, f in entries
            }
            time.sleep(0.1)
    finally:
        worker.stop()
    assert statuses["in-hours"]["status"] == "filled", (tmp_path / "worker.log").read_text()[-2000:]
    assert statuses["night"]["status"] == "rejected"
    assert (
        statuses["night"]["error"] == "created_at: outside trading hours (mon-fri 07:00-21:00 UTC)"
    )


def documented_sink() -> Plugin:
    """The sink plugin of docs/plugins.md, run as it is written there."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    code = next(b for b in blocks if b.startswith('"""A sink plugin'))
    namespace: dict[str, Any] = {"__name__": "documented_sink"}
    exec(compile(code, str(DOC), "exec"), namespace)
    plugin = namespace["plugin"]
    assert isinstance(plugin, Plugin)
    return plugin


async def test_the_documented_sink_plugin_writes_each_result_once(
    redis_url: str, tmp_path: Path
) -> None:
    plugin = documented_sink()
    pipeline = build_pipeline(Settings(prefix="ea:", data_dir=tmp_path), redis_url)
    await plugin.install(pipeline)
    results = [fill(n) for n in range(20)]
    await pipeline.app.send_many(pipeline.topics.rtrs, [*results, *results[:5]])
    lines = tmp_path / "results.jsonl"
    await pipeline.app.start()
    try:
        deadline = time.monotonic() + 30
        while not lines.exists() or len(lines.read_bytes().splitlines()) < 20:
            assert time.monotonic() < deadline, "the sink wrote nothing"
            await asyncio.sleep(0.05)
        lag = {"jsonl": 0}
        while await sink_lag(pipeline.redis, "ea:rtrs", ["jsonl"]) != lag:
            assert time.monotonic() < deadline, "the sink did not ack"
            await asyncio.sleep(0.05)
    finally:
        await pipeline.app.stop()
        await pipeline.redis.aclose()
    written = [orjson.loads(line) for line in lines.read_bytes().splitlines()]
    assert [row["result_id"] for row in written] == [r.result_id for r in results]
    assert pipeline.running == [f"jsonl: rtrs → {lines}"]
