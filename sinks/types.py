"""The protocol every result store implements, apart from the stores themselves."""

from __future__ import annotations

from typing import Protocol

import pyarrow as pa


class SinkUnavailable(RuntimeError):
    """The database cannot be opened now (locked, unreachable, unwritable); retry later."""


def first_line(error: BaseException, limit: int = 500) -> str:
    """An error's first line without the stack trace chDB appends, short enough to log."""
    text = str(error).strip().split(", Stack trace")[0]
    return (text.splitlines()[0] if text else type(error).__name__)[:limit]


class ResultStore(Protocol):
    """A database table of results, written in Arrow batches, idempotent on result_id.

    Calls are synchronous and made from one thread at a time (the sink's own thread).
    """

    @property
    def name(self) -> str:
        """The sink's name, also its consumer group on `rtrs`: `duckdb`, `clickhouse`."""
        ...

    @property
    def is_open(self) -> bool: ...

    def open(self) -> None:
        """Connect and migrate the schema to the latest version."""

    def write(self, batch: pa.Table) -> int:
        """Insert the rows whose result_id is new; returns how many were inserted."""
        ...

    def close(self) -> None:
        """Release the connection (and the file lock); `write` reopens when needed."""
