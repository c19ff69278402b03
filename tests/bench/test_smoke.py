"""Every benchmark still runs: `python -m bench --smoke NAME` with tiny sizes, each in a few
seconds (its figures are not judged), and writes its JSON with the machine facts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import SMOKE_LIMIT, benchmarks
from tests.tools import need_redis, needs

ROOT = Path(__file__).resolve().parents[2]


@needs("redis-server")
@pytest.mark.parametrize("name", benchmarks())  # each under a minute; bench_orders the longest
def test_benchmark_runs(name: str, tmp_path: Path) -> None:
    if name == "bench_faust":
        need_redis((7, 0), "the Faust transport's dense stream ids (XADD key 0-*)")
    env = {**os.environ, "BENCH_RESULTS": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", name],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SMOKE_LIMIT + 45,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout[-5000:]}\n{done.stderr[-5000:]}"
    written = sorted(tmp_path.glob("*.json"))
    assert written, f"{name} wrote no JSON into $BENCH_RESULTS"
    for path in written:
        payload = json.loads(path.read_text())
        facts = payload["machine"]
        assert facts["smoke"] is True
        assert facts["cpus"] and facts["python"] and facts["redis_server"]
        assert "commit" in facts["code"]
