"""Run an installed pipeline until SIGINT/SIGTERM, then stop it gracefully."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

import structlog

from eaflow.install.pipeline import Pipeline

log = structlog.get_logger(__name__)


async def serve(
    pipeline: Pipeline, on_started: Callable[[], Awaitable[None]] | None = None
) -> None:
    """Start the app, wait for a stop signal, finish the batches in hand, close brokers."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # Windows' event loops: a plain handler (Ctrl-C, service stop)
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    await pipeline.app.start()
    try:
        if on_started is not None:
            await on_started()
        await stop.wait()
        log.info("stopping")
    finally:
        await pipeline.app.stop()
        await pipeline.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.remove_signal_handler(sig)
            except NotImplementedError:
                signal.signal(sig, signal.SIG_DFL)
