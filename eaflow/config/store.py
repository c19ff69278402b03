"""The configuration's source of truth in DuckDB: scopes, instances, history, backups.

Every change is one transaction that writes the scope's new document and a history row
with the next version number, so `history` shows who changed what, from what, to what.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import duckdb
import orjson
import pyarrow as pa

from eaflow.config.scopes import Document
from sinks.database import Migration, connect, migrate

TABLES = [
    "CREATE TABLE config_scopes (scope VARCHAR PRIMARY KEY, body VARCHAR NOT NULL)",
    "CREATE TABLE config_instances (instance_id VARCHAR PRIMARY KEY, spec VARCHAR NOT NULL)",
    """CREATE TABLE config_history (
        version BIGINT PRIMARY KEY, changed_at TIMESTAMP NOT NULL, actor VARCHAR NOT NULL,
        scope VARCHAR NOT NULL, change VARCHAR NOT NULL, before VARCHAR NOT NULL,
        after VARCHAR NOT NULL, note VARCHAR NOT NULL)""",
    """CREATE TABLE config_backups (
        backup_id BIGINT NOT NULL, taken_at TIMESTAMP NOT NULL, version BIGINT NOT NULL,
        key VARCHAR NOT NULL, field VARCHAR, value VARCHAR NOT NULL)""",
]
SLIPPAGE_IN_PIPS = [
    # Version 2 reads `slippage` as pips (the original design's 1.5); what scopes stored
    # before was MT5 points, so it moves to `slippage_points`, at every level it was set.
    "UPDATE config_scopes SET body = eaflow_points_slippage(body) WHERE body LIKE '%slippage%'",
]
MIGRATIONS: list[Migration] = [(1, TABLES), (2, SLIPPAGE_IN_PIPS)]
LOCK_WAIT = 10.0  # seconds to wait while another process writes the file


def points_slippage(body: str) -> str:
    """A scope's document with each `slippage` (points, before version 2) as
    `slippage_points`, in the scope and in its per-symbol overrides."""
    document = orjson.loads(body)

    def move(node: Document) -> None:
        if "slippage" in node and "slippage_points" not in node:
            node["slippage_points"] = node.pop("slippage")
        for override in (node.get("symbols") or {}).values():
            if isinstance(override, dict):
                move(override)

    if isinstance(document, dict):
        move(document)
    return orjson.dumps(document).decode()


class VersionConflict(RuntimeError):
    """Another writer committed since this change was computed; compute it again."""


@dataclass(frozen=True)
class ConfigSnapshot:
    """Everything the store holds at one version."""

    version: int
    scopes: dict[str, Document]  # GLOBAL and instance ids → what each scope sets
    instances: dict[str, Document]  # instance id → its spec without config

    def scope(self, scope: str) -> Document:
        return self.scopes.get(scope, {})


@dataclass(frozen=True)
class Change:
    """One row of the history: `change` holds `set` (path → value) and `unset` (paths)."""

    version: int
    at: datetime
    actor: str
    scope: str
    change: Document
    before: Document
    after: Document
    note: str


@dataclass(frozen=True)
class Backup:
    """A copy of the configuration keys as they were in Redis."""

    backup_id: int
    taken_at: datetime
    version: int
    entries: list[tuple[str, str | None, str]]  # key, hash field (None: a string key), value


T = TypeVar("T")


def _count(db: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = db.execute(sql).fetchall()
    return int(rows[0][0]) if rows else 0


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class ConfigStore:
    """Opens eaflow's DuckDB file for each operation, so other processes (workers, the
    sinks, the CLI) can write between them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # one writer per process; the file lock does the rest

    def _run(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        with self._lock:
            db = connect(self.path, wait=LOCK_WAIT)
            try:
                db.create_function(
                    "eaflow_points_slippage", points_slippage, ["VARCHAR"], "VARCHAR"
                )
                migrate(db, "config", MIGRATIONS)
                return work(db)
            finally:
                db.close()

    def snapshot(self) -> ConfigSnapshot:
        def read(db: duckdb.DuckDBPyConnection) -> ConfigSnapshot:
            version = _count(db, "SELECT coalesce(max(version), 0) FROM config_history")
            scopes = db.execute("SELECT scope, body FROM config_scopes").fetchall()
            instances = db.execute("SELECT instance_id, spec FROM config_instances").fetchall()
            return ConfigSnapshot(
                version=version,
                scopes={s: orjson.loads(b) for s, b in scopes},
                instances={i: orjson.loads(s) for i, s in instances},
            )

        return self._run(read)

    def commit(
        self,
        expected: int,
        changes: dict[str, tuple[Document, Document]],
        actor: str,
        note: str = "",
        instances: dict[str, Document] | None = None,
    ) -> int:
        """Write scope → (change, new document) pairs, each as one version; returns the last.

        Raises VersionConflict when the store moved past `expected` meanwhile.
        """

        def write(db: duckdb.DuckDBPyConnection) -> int:
            db.execute("BEGIN TRANSACTION")
            try:
                version = _count(db, "SELECT coalesce(max(version), 0) FROM config_history")
                if version != expected:
                    raise VersionConflict(f"version is {version}, expected {expected}")
                for instance_id, spec in (instances or {}).items():
                    db.execute(
                        "INSERT OR REPLACE INTO config_instances VALUES (?, ?)",
                        [instance_id, orjson.dumps(spec).decode()],
                    )
                for scope, (change, after) in changes.items():
                    version += 1
                    found = db.execute(
                        "SELECT body FROM config_scopes WHERE scope = ?", [scope]
                    ).fetchone()
                    before = found[0] if found else "{}"
                    body = orjson.dumps(after).decode()
                    db.execute("INSERT OR REPLACE INTO config_scopes VALUES (?, ?)", [scope, body])
                    db.execute(
                        "INSERT INTO config_history VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            version,
                            _now(),
                            actor,
                            scope,
                            orjson.dumps(change).decode(),
                            before,
                            body,
                            note,
                        ],
                    )
                db.execute("COMMIT")
                return version
            except BaseException:
                db.execute("ROLLBACK")
                raise

        return self._run(write)

    def history(self, scope: str | None = None, limit: int = 50) -> list[Change]:
        """The newest changes first; `scope` GLOBAL or an instance id narrows them."""

        def read(db: duckdb.DuckDBPyConnection) -> list[Change]:
            where, args = ("WHERE scope = ?", [scope]) if scope is not None else ("", [])
            rows = db.execute(
                "SELECT version, changed_at, actor, scope, change, before, after, note "
                f"FROM config_history {where} ORDER BY version DESC LIMIT ?",
                [*args, limit],
            ).fetchall()
            return [
                Change(v, at, actor, s, orjson.loads(c), orjson.loads(b), orjson.loads(a), n)
                for v, at, actor, s, c, b, a, n in rows
            ]

        return self._run(read)

    def save_backup(self, version: int, entries: list[tuple[str, str | None, str]]) -> int:
        """Store a copy of Redis's configuration keys; returns the backup id."""

        def write(db: duckdb.DuckDBPyConnection) -> int:
            backup_id = _count(db, "SELECT coalesce(max(backup_id), 0) FROM config_backups") + 1
            taken = _now()
            rows = pa.table(
                {
                    "backup_id": [backup_id] * len(entries),
                    "taken_at": [taken] * len(entries),
                    "version": [version] * len(entries),
                    "key": [k for k, _, _ in entries],
                    "field": [f for _, f, _ in entries],
                    "value": [v for _, _, v in entries],
                }
            )
            db.register("backup_rows", rows)
            db.execute("INSERT INTO config_backups SELECT * FROM backup_rows")
            db.unregister("backup_rows")
            return backup_id

        return self._run(write)

    def backup(self, backup_id: int | None = None) -> Backup | None:
        """The given backup, or the newest one; None when there is none."""

        def read(db: duckdb.DuckDBPyConnection) -> Backup | None:
            chosen = backup_id
            if chosen is None:
                chosen = _count(db, "SELECT coalesce(max(backup_id), 0) FROM config_backups")
            rows = db.execute(
                "SELECT taken_at, version, key, field, value FROM config_backups "
                "WHERE backup_id = ? ORDER BY key, field",
                [chosen],
            ).fetchall()
            if not rows:
                return None
            return Backup(
                chosen,
                rows[0][0],
                int(rows[0][1]),
                [(k, f, v) for _, _, k, f, v in rows],
            )

        return self._run(read)

    def backups(self) -> list[tuple[int, datetime, int, int]]:
        """(backup id, taken at, version, entries) of every backup, newest first."""

        def read(db: duckdb.DuckDBPyConnection) -> list[tuple[int, datetime, int, int]]:
            rows = db.execute(
                "SELECT backup_id, min(taken_at), min(version), count(*) FROM config_backups "
                "GROUP BY backup_id ORDER BY backup_id DESC"
            ).fetchall()
            return [(int(b), t, int(v), int(n)) for b, t, v, n in rows]

        return self._run(read)
