"""Run an installed pipeline until a stop signal, then stop it gracefully.

The stop signals are SIGINT and SIGTERM, and on Windows SIGBREAK too: there the MT5 worker
runs (the MetaTrader5 package exists only for Windows), asyncio's loops have no
`add_signal_handler`, and a service manager or a parent worker stops a console process with
Ctrl-C or Ctrl-Break (`processors/manager/children.py` sends CTRL_BREAK_EVENT to the process
group of each child it started). `on_stop` is the one place that tells the two apart.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable

import structlog

from eaflow.install.pipeline import Pipeline

log = structlog.get_logger(__name__)

WINDOWS = "win32"


def stop_signals(platform: str = sys.platform) -> list[signal.Signals]:
    """The signals that stop a worker on `platform` (those this Python defines)."""
    names = ("SIGINT", "SIGTERM", "SIGBREAK") if platform == WINDOWS else ("SIGINT", "SIGTERM")
    return [getattr(signal, name) for name in names if hasattr(signal, name)]


def on_stop(
    loop: asyncio.AbstractEventLoop, stop: Callable[[], None], platform: str = sys.platform
) -> Callable[[], None]:
    """Have a stop signal call `stop` on `loop`; returns what undoes it.

    POSIX: the loop's own signal handlers. Windows: plain handlers (run by the interpreter in
    the main thread) that hand `stop` to the loop, which they wake.
    """
    signals = stop_signals(platform)
    if platform != WINDOWS:
        for sig in signals:
            loop.add_signal_handler(sig, stop)

        def remove() -> None:
            for sig in signals:
                loop.remove_signal_handler(sig)

        return remove
    previous = {sig: signal.getsignal(sig) for sig in signals}
    for sig in signals:
        signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop))

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


async def serve(
    pipeline: Pipeline, on_started: Callable[[], Awaitable[None]] | None = None
) -> None:
    """Start the app, wait for a stop signal, finish the batches in hand, close brokers."""
    stop = asyncio.Event()
    undo = on_stop(asyncio.get_running_loop(), stop.set)
    await pipeline.app.start()
    try:
        if on_started is not None:
            await on_started()
        await stop.wait()
        log.info("stopping")
    finally:
        await pipeline.app.stop()
        await pipeline.close()
        undo()
