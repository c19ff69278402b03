"""The MT5 worker's platform branches, both ways: how a worker hears it must stop, and how a
parent worker starts and stops its children, on POSIX and on Windows.

The MetaTrader5 package exists only for Windows, so `eaflow worker orders` for real terminals
runs there. These run on Linux: the POSIX branch for real, the Windows branch as far as Linux
can run it (its signal handlers are installed and fired with real signals; Windows' own
console events cannot be sent here, so for those the test checks what would be sent). On a
Windows runner the same tests exercise the Windows branch natively.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from eaflow.runner import on_stop, stop_signals
from processors.manager.children import (
    CREATE_NEW_PROCESS_GROUP,
    CTRL_BREAK_EVENT,
    WorkerProcess,
    spawn_options,
    stop_signal,
)
from processors.manager.config import ManagerConfig

POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")


def test_the_stop_signals_of_each_platform() -> None:
    assert stop_signals("linux") == [signal.SIGINT, signal.SIGTERM]
    windows = stop_signals("win32")
    assert windows[:2] == [signal.SIGINT, signal.SIGTERM]
    # SIGBREAK (Ctrl-Break) exists only in Windows' Python: there it is the third
    assert windows[2:] == ([signal.SIGBREAK] if hasattr(signal, "SIGBREAK") else [])  # type: ignore[attr-defined,unused-ignore]


@POSIX_ONLY
@pytest.mark.parametrize("platform", ["linux", "win32"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_signal_stops_the_worker_on_either_branch(
    platform: str, sig: signal.Signals
) -> None:
    """The POSIX branch uses the loop's handlers, the Windows one plain handlers that wake the
    loop: either way a real signal sets the stop event. Undoing puts back what was there (the
    loop's own removal puts back the default one)."""
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    before = signal.getsignal(sig)
    undo = on_stop(loop, stopped.set, platform)
    try:
        os.kill(os.getpid(), sig)
        await asyncio.wait_for(stopped.wait(), 5)
    finally:
        undo()
    defaults = (signal.SIG_DFL, signal.default_int_handler)
    assert (
        signal.getsignal(sig) == before
        if platform == "win32"
        else signal.getsignal(sig) in defaults
    )


def test_children_get_a_process_group_and_a_break_on_windows() -> None:
    """Windows: a child in its own process group (CREATE_NEW_PROCESS_GROUP, 0x200) is sent
    CTRL_BREAK_EVENT (1), which only that group receives and its runner reads as SIGBREAK;
    SIGTERM there would be TerminateProcess, killing it in the middle of a batch."""
    assert spawn_options("win32") == {"creationflags": CREATE_NEW_PROCESS_GROUP}
    assert stop_signal("win32") == CTRL_BREAK_EVENT
    assert (CREATE_NEW_PROCESS_GROUP, CTRL_BREAK_EVENT) == (0x200, 1)
    if sys.platform == "win32":  # the values are the standard library's own
        import subprocess

        assert CREATE_NEW_PROCESS_GROUP == subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined,unused-ignore]
        assert CTRL_BREAK_EVENT == signal.CTRL_BREAK_EVENT  # type: ignore[attr-defined,unused-ignore]
    assert spawn_options("linux") == {}
    assert stop_signal("linux") == signal.SIGTERM


CHILD = """
import asyncio, sys
from eaflow.runner import on_stop

async def main() -> None:
    stopped = asyncio.Event()
    on_stop(asyncio.get_running_loop(), stopped.set)
    print("ready", flush=True)
    await stopped.wait()
    await asyncio.sleep(0.2)  # the batch in hand
    print("finished its batch", flush=True)

asyncio.run(main())
"""


@POSIX_ONLY
async def test_a_child_finishes_its_batch_when_its_parent_stops_it(tmp_path: Path) -> None:
    """A child started and stopped as the orders worker does it, running the runner's stop
    handling: it exits by itself, having finished, within STOP_WAIT (not killed)."""
    out = tmp_path / "child.out"
    command = [sys.executable, "-c", f"import sys; sys.stdout = open({str(out)!r}, 'w')\n{CHILD}"]
    child = WorkerProcess("child", command, ManagerConfig(), "redis://unused:6379/0")
    assert await child.poll() == "started"
    deadline = time.monotonic() + 20
    while "ready" not in (out.read_text() if out.exists() else ""):
        assert time.monotonic() < deadline, "the child never got ready"
        await asyncio.sleep(0.05)
    process = child.process
    assert process is not None
    await child.close()
    assert process.returncode == 0
    assert out.read_text().splitlines() == ["ready", "finished its batch"]
