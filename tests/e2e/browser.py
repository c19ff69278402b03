"""Headless Chromium for the browser tests (the chart page, the console): where Chromium and
its driver are, the flags it runs with, and a wait for the page's state. The driver itself is
the `chromium` fixture of tests/e2e/conftest.py."""

from __future__ import annotations

import time
from typing import Any

from tests.tools import which

CHROMIUM, DRIVER = which("chromium"), which("chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)


def wait_for(driver: Any, script: str, timeout: float = 30) -> Any:
    """The script's value once it is truthy; fails after `timeout` seconds naming the
    page's error (the chart's `window.eaflow.error`), if any."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.2)
    state = driver.execute_script("return window.eaflow && window.eaflow.error")
    raise AssertionError(f"not true after {timeout}s: {script} (page error: {state})")
