"""Failure records and dead letters: the keys and commands that remember what went wrong.

A failed delivery of entry `id` bumps field `id` of hash `{prefix}fails:{topic}:{group}` and
stores its last error in field `id:error`. An entry that is given up on moves to stream
`{prefix}dlq:{topic}` with its original bytes and the reason.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from streams.types import Command

MAX_ERROR = 2000
"""Longest error text kept; tracebacks beyond it are cut."""


def fails_key(prefix: str, topic: str, group: str) -> str:
    return f"{prefix}fails:{topic}:{group}"


def dlq_key(prefix: str, topic: str) -> str:
    return f"{prefix}dlq:{topic}"


def error_field(entry_id: str) -> str:
    return f"{entry_id}:error"


def record_failure(fails: str, entry_id: str, error: str) -> list[Command]:
    """Count one more failed delivery of `entry_id` and keep its error."""
    return [
        ("HINCRBY", fails, entry_id, 1),
        ("HSET", fails, error_field(entry_id), error[:MAX_ERROR]),
    ]


def failure_fields(entry_ids: Iterable[str]) -> list[str]:
    """The fails-hash fields of `entry_ids`: their counts and their errors."""
    return [field for entry_id in entry_ids for field in (entry_id, error_field(entry_id))]


def forget_failures(fails: str, entry_ids: Iterable[str]) -> Command:
    """Drop the failure records of entries that are done (acked or dead-lettered)."""
    return ("HDEL", fails, *failure_fields(entry_ids))


def dead_letter(
    dlq: str, *, stream: str, group: str, entry_id: str, raw: bytes, error: str, deliveries: int
) -> Command:
    """XADD the original bytes and the reason to the DLQ; `eaflow replay` reads them back."""
    return (
        "XADD", dlq, "*",
        "d", raw,
        "stream", stream,
        "group", group,
        "id", entry_id,
        "error", error[:MAX_ERROR],
        "deliveries", deliveries,
        "ts", int(time.time() * 1000),
    )  # fmt: skip
