"""Trade state snapshots into DuckDB (every 60 s by default): the account history to query.

The latest state of each instance is read from Redis (children write theirs there too)
and appended to `state_snapshots` in eaflow's DuckDB file as one Arrow batch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
from pydantic import ValidationError
from redis.asyncio import Redis

from model import AccountState
from model.topics import Topics
from sinks.database import Migration, connect, migrate

MIGRATIONS: list[Migration] = [
    (
        1,
        [
            """CREATE TABLE state_snapshots (
        taken_at TIMESTAMP NOT NULL, instance VARCHAR NOT NULL, login BIGINT NOT NULL,
        currency VARCHAR NOT NULL, balance DOUBLE NOT NULL, equity DOUBLE NOT NULL,
        margin DOUBLE NOT NULL, margin_free DOUBLE NOT NULL, margin_level DOUBLE NOT NULL,
        profit DOUBLE NOT NULL, positions INTEGER NOT NULL, orders INTEGER NOT NULL,
        state_ts DOUBLE NOT NULL, state VARCHAR NOT NULL)"""
        ],
    ),
]
LOCK_WAIT = 30.0  # seconds to wait while another process writes the file


class StateArchive:
    """Appends account states to `state_snapshots`; one connection per write."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, states: Sequence[AccountState], taken_at: datetime | None = None) -> int:
        if not states:
            return 0
        taken = taken_at or datetime.now(UTC).replace(tzinfo=None)
        rows = pa.table(
            {
                "taken_at": [taken] * len(states),
                "instance": [s.instance for s in states],
                "login": [s.login for s in states],
                "currency": [s.currency for s in states],
                "balance": [s.balance for s in states],
                "equity": [s.equity for s in states],
                "margin": [s.margin for s in states],
                "margin_free": [s.margin_free for s in states],
                "margin_level": [s.margin_level for s in states],
                "profit": [s.profit for s in states],
                "positions": pa.array([len(s.positions) for s in states], pa.int32()),
                "orders": pa.array([len(s.orders) for s in states], pa.int32()),
                "state_ts": [s.ts for s in states],
                "state": [s.model_dump_json() for s in states],
            }
        )
        db = connect(self.path, wait=LOCK_WAIT)
        try:
            migrate(db, "state_snapshots", MIGRATIONS)
            db.register("snapshot_rows", rows)
            db.execute("INSERT INTO state_snapshots SELECT * FROM snapshot_rows")
            db.unregister("snapshot_rows")
        finally:
            db.close()
        return len(states)


async def archive_states(
    redis: Redis,
    topics: Topics,
    instances: Sequence[str],
    archive: StateArchive,
    max_age: float = 60.0,
) -> int:
    """Copy the latest state of `instances` from Redis into DuckDB; returns the rows written.

    States older than `max_age` (an instance that stopped syncing) are left out, so the
    history shows a gap rather than repeating a stale state.
    """
    if not instances:
        return 0
    raw = await redis.mget([topics.keys.state(i) for i in instances])
    fresh = time.time() - max_age
    states = []
    for value in raw:
        if value is None:
            continue
        try:
            state = AccountState.model_validate_json(value)
        except ValidationError:
            continue
        if state.ts >= fresh:
            states.append(state)
    return await asyncio.to_thread(archive.write, states)
