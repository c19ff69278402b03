"""`eaflow worker`, `gateway`, `config` and `run` as an operator starts them as separate
processes: one data directory for all of them (`--data-dir` or `EAFLOW_DATA_DIR`), wherever
each is started; what each runs printed once started; every option and topic in `--help`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path

import orjson
import redis

from sinks.database import connect
from tests.redis_server import free_port
from tests.sinks.conftest import fill

HELP_ENV = {"COLUMNS": "400", "NO_COLOR": "1"}


def command(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """One eaflow command run to completion in `cwd`."""
    return subprocess.run(
        [sys.executable, "-m", "eaflow", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **HELP_ENV, **(env or {})},
        timeout=120,
        check=False,
    )


@contextmanager
def started(
    args: Sequence[str], cwd: Path, until: str, env: dict[str, str] | None = None
) -> Iterator[list[str]]:
    """An eaflow command as a process, its output read up to the line containing `until`
    (printed once it runs); SIGTERM at the end, which it must obey with exit code 0."""
    process = subprocess.Popen(
        [sys.executable, "-m", "eaflow", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=cwd,
        env={**os.environ, **HELP_ENV, **(env or {})},
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while not any(until in line for line in lines):
            line = process.stdout.readline()
            assert line or process.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            lines.append(line)
        yield lines
    finally:
        process.send_signal(signal.SIGTERM)
        lines.append(process.stdout.read())
        process.stdout.close()
        process.wait(timeout=60)
    assert process.returncode == 0, "".join(lines)


def stored_results(database: Path, timeout: float = 60) -> list[str]:
    """The result ids in the DuckDB file, once the sink has written one (and let go of it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if database.exists():
            try:
                con = connect(database, read_only=True, wait=1.0)
            except Exception:  # the sink holds it for its batch: look again
                time.sleep(0.2)
                continue
            try:
                tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
                if "results" in tables:
                    rows = con.execute("SELECT result_id FROM results").fetchall()
                    if rows:
                        return [row[0] for row in rows]
            finally:
                con.close()
        time.sleep(0.2)
    raise AssertionError(f"no result in {database} within {timeout}s")


def test_workers_and_the_cli_share_one_data_directory(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    """Started from different working directories, a config change, the sinks and the gateway
    all use the one data directory given, and nothing lands in a `var/` where they started."""
    data = tmp_path / "data"
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    data_option = ["--data-dir", str(data)]
    changed = command(
        "config", "set", "max_open_orders=5", "--redis", redis_url, *data_option, cwd=here
    )
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.strip() == (
        f"version 1: global published to Redis; history in {data / 'eaflow.duckdb'}"
    )
    port = free_port()
    worker = ["worker", "rtrs", "gateway", "--redis", redis_url, "--port", str(port)]
    with started([*worker, "--data-dir", str(data)], cwd=there, until="data directory:") as lines:
        output = "".join(lines)
        assert f"sink duckdb: rtrs → {data / 'eaflow.duckdb'} (group duckdb)" in output
        assert f"gateway: http://127.0.0.1:{port} " in output
        assert f"data directory: {data}\n" in output
        [link] = [line.split("chart: ", 1)[1].strip() for line in lines if "chart: " in line]
        redis_client.xadd("ea:rtrs", {"d": fill(1).model_dump_json()})
        assert stored_results(data / "eaflow.duckdb") == ["o1@demo-1"]
    assert link.endswith((data / "gateway" / "viewer-token").read_text().strip())
    history = command(
        "config", "history", "--json", "--redis", redis_url, cwd=there,
        env={"EAFLOW_DATA_DIR": str(data)},
    )  # fmt: skip
    assert history.returncode == 0, history.stderr
    assert [change["version"] for change in orjson.loads(history.stdout)] == [1]
    assert not (here / "var").exists() and not (there / "var").exists()


def test_eaflow_run_takes_the_data_directory_and_gateway_port_from_the_environment(
    redis_url: str, tmp_path: Path
) -> None:
    data, cwd = tmp_path / "data", tmp_path / "cwd"
    cwd.mkdir()
    port = free_port()
    env = {"EAFLOW_DATA_DIR": str(data), "EAFLOW_HTTP_PORT": str(port)}
    sinks = f"sink duckdb: rtrs → {data / 'eaflow.duckdb'}"  # once its sinks' process runs
    with started(["run", "--redis", redis_url], cwd=cwd, until=sinks, env=env) as lines:
        output = "".join(lines)
        assert f"chart: http://127.0.0.1:{port}/?token=" in output
        assert f"│ data          │ {data} " in output
    assert (data / "gateway" / "viewer-token").exists()
    assert not (cwd / "var").exists()


def options_of(help_text: str) -> set[str]:
    return {word.strip("│,") for word in help_text.split() if word.startswith("--")}


def test_help_lists_every_option_and_topic(tmp_path: Path) -> None:
    data_dir_commands = [
        ["run"],
        ["worker"],
        ["gateway"],
        ["replay"],
        *(["config", sub] for sub in ("get", "set", "unset", "list", "history", "backup")),
        ["config", "restore"],
        ["config", "publish"],
    ]
    for args in data_dir_commands:
        shown = command(*args, "--help", cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert "--data-dir" in options_of(shown.stdout), args
        assert "EAFLOW_DATA_DIR" in shown.stdout, args
    for args in (["run"], ["worker"], ["gateway"]):  # the commands that can run the gateway
        text = command(*args, "--help", cwd=tmp_path).stdout
        assert {"--host", "--port"} <= options_of(text), args
        assert "EAFLOW_HTTP_HOST" in text and "EAFLOW_HTTP_PORT" in text, args
    worker = command("worker", "--help", cwd=tmp_path).stdout
    groups = ("eaflow.processors", "eaflow.sinks")
    installed = [e.name for group in groups for e in entry_points(group=group)]
    for topic in ["rtss", "orders", "ticks", "rtrs", "gateway", *installed]:
        assert f"{topic} " in worker or f"{topic}." in worker or f"{topic}," in worker, topic
    assert {"--instance", "--processes", "--speed", "--spawn", "--metrics-port"} <= options_of(
        worker
    )
