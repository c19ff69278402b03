"""`ResultSink`: the batch agent that writes results from `rtrs` (or trade states from
`trades`, account states from `rts`) into one store.

The runtime acks a batch only when the handler returns, and retries it with backoff when it
raises: a store that cannot write keeps its results pending and catches up, in order, once
it can write again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

import pyarrow as pa
import structlog

from sinks.metrics import SINK_BATCH_SECONDS, SINK_DUPLICATES, SINK_FAILURES, SINK_ROWS
from sinks.types import ResultStore, first_line
from streams import Event, Outbox

log = structlog.get_logger(__name__)
R = TypeVar("R")
V = TypeVar("V")

Rows = Callable[[list[tuple[str, V]]], pa.Table]
"""A batch of (entry id, value) pairs as the store's Arrow table, e.g. `results_table`."""
Written = Callable[[pa.Table], None]
"""Told each batch the store took, e.g. `StateRows.written` (its sampling moves on)."""


class ResultSink(Generic[V]):
    """Writes each batch in the store's own thread (databases block; the event loop must
    not), and closes the store after `idle_close` seconds without batches so other
    processes can open the database file in between."""

    def __init__(
        self,
        store: ResultStore,
        rows: Rows[V],
        idle_close: float = 2.0,
        written: Written | None = None,
    ) -> None:
        self.store = store
        self.rows = rows
        self.idle_close = idle_close
        self.written = written
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sink-{store.name}")
        self._lock = asyncio.Lock()
        self._last_write = time.monotonic()

    @property
    def name(self) -> str:
        return self.store.name

    async def handle(self, events: list[Event[V]], out: Outbox) -> None:
        """Write the batch; raising leaves it pending for the runtime to retry."""
        started = time.perf_counter()
        entries = [(event.id, event.value) for event in events]
        async with self._lock:
            try:
                rows, inserted = await self._run(self._write, entries)
            except Exception as error:
                SINK_FAILURES.labels(self.name).inc()
                log.warning(
                    "sink_write_failed",
                    sink=self.name,
                    results=len(events),
                    error=first_line(error),
                )
                raise
            finally:
                self._last_write = time.monotonic()
        SINK_BATCH_SECONDS.labels(self.name).observe(time.perf_counter() - started)
        SINK_ROWS.labels(self.name).inc(inserted)
        SINK_DUPLICATES.labels(self.name).inc(rows - inserted)

    def _write(self, entries: list[tuple[str, V]]) -> tuple[int, int]:
        """In the sink's thread: build the Arrow batch and write it (rows, inserted)."""
        batch = self.rows(entries)
        try:
            inserted = self.store.write(batch)
        except Exception:
            self.store.close()  # reconnect from scratch on the next attempt
            raise
        if self.written is not None:
            self.written(batch)
        return batch.num_rows, inserted

    async def close_if_idle(self) -> None:
        """Timer: release the database after `idle_close` seconds without a batch."""
        if self.store.is_open and time.monotonic() - self._last_write >= self.idle_close:
            async with self._lock:
                await self._run(self.store.close)

    async def hold(self) -> None:
        """Background task: keeps nothing open when the app stops."""
        try:
            await asyncio.Event().wait()
        finally:
            async with self._lock:
                await self._run(self.store.close)

    async def _run(self, function: Callable[..., R], *args: Any) -> R:
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)
