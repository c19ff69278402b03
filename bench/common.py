"""What every benchmark shares: a Redis to run on, percentiles, tables and JSON output."""

from __future__ import annotations

import json
import platform
import shutil
import statistics
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).parent / "results"


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max of latencies in seconds, reported in milliseconds."""
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "p50_ms": q[49] * 1e3,
        "p95_ms": q[94] * 1e3,
        "p99_ms": q[98] * 1e3,
        "max_ms": ordered[-1] * 1e3,
        "n": len(ordered),
    }


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": __import__("os").cpu_count(),
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


@contextmanager
def redis_server(port: int) -> Iterator[str]:
    """A throwaway Debian/upstream redis-server on loopback (no persistence)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("benchmarks need redis-server on PATH (apt-get install redis-server)")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.02)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait()


def report(name: str, title: str, rows: list[dict[str, Any]], extra: dict[str, Any]) -> None:
    """Print rows as a table and write them with the machine facts to results/NAME.json."""
    table = Table(title=title)
    columns = list(dict.fromkeys(column for row in rows for column in row))
    for column in columns:
        table.add_column(column, justify="right" if column != "what" else "left")
    for row in rows:
        values = (row.get(column, "") for column in columns)
        table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in values))
    Console(width=max(160, Console().width)).print(table)
    RESULTS.mkdir(exist_ok=True)
    payload = {"benchmark": name, "machine": machine(), "rows": rows, **extra}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2))
