"""Shared fixtures: a real redis-server per test session, flushed before each test; and the
report of tests skipped for a missing program (tests/tools.py), failed under
`EAFLOW_REQUIRE_TOOLS=1`."""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
import redis
import structlog

from tests.redis_server import RedisServer
from tests.tools import MISSING, REQUIRE_TOOLS

DATA = Path(__file__).parent / "data"
REQUIRED = f"; {REQUIRE_TOOLS}=1 runs every test"


@pytest.fixture(autouse=True)
def _no_log_handler_left() -> Iterator[None]:
    """A command run in this process (typer's CliRunner) configures logging for the whole
    process (`eaflow.logging`), its handler writing to that test's captured stderr, which is
    closed afterwards: later tests would log into a closed file. Remove it after each test."""
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler.formatter, structlog.stdlib.ProcessorFormatter):
            root.removeHandler(handler)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(workdir=tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """URL of the session's Redis, emptied before the test."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    yield redis_server.url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def missing_tool(report: pytest.TestReport) -> str | None:
    """The reason of a skip for a missing program (or of the failure it became), else None."""
    longrepr = report.longrepr
    reason = str(longrepr[2] if isinstance(longrepr, tuple) else longrepr)
    reason = reason.removeprefix("Skipped: ").removesuffix(REQUIRED)
    return reason if reason.startswith(MISSING) else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport() -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Under `EAFLOW_REQUIRE_TOOLS=1` (CI), a test skipped for a missing program fails."""
    report = yield
    if report.skipped and os.environ.get(REQUIRE_TOOLS) == "1":
        reason = missing_tool(report)
        if reason is not None:
            report.outcome = "failed"
            report.longrepr = reason + REQUIRED
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per missing program: how many tests it kept from running, how to install it."""
    reasons = Counter(
        reason
        for outcome in ("skipped", "failed", "error")
        for report in terminalreporter.stats.get(outcome, [])
        if isinstance(report, pytest.TestReport) and (reason := missing_tool(report))
    )
    if not reasons:
        return
    terminalreporter.section("tests not run for a missing program")
    for reason, count in sorted(reasons.items()):
        terminalreporter.line(f"{count:4} {reason.removeprefix(MISSING).strip()}")
