"""ClickHouse store of results: a ClickHouse server, or embedded chDB, through one client.

clickhouse-connect talks to a server over HTTP (`http://`, `https://`, `clickhouse://` URLs)
and to an in-process chDB engine (`chdb:///path` URLs) with the same API, so the DDL,
batching and SQL below are the same for both and the tests exercise them on chDB.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.compute as pc

from model.errors import MissingExtra
from sinks.schema import RESULTS, Table
from sinks.types import SinkUnavailable, first_line

CHDB_HINT = (
    "chDB is not installed: pip install 'eaflow[chdb]' "
    "(or set EAFLOW_CLICKHOUSE_URL to a ClickHouse server)"
)
_SERVER_SCHEMES = {"http", "https", "clickhouse", "clickhouses"}


def chdb_url(data_dir: Path | str) -> str:
    """The embedded database used when no ClickHouse URL is configured."""
    return f"chdb://{Path(data_dir).resolve() / 'clickhouse'}"


def check_url(url: str) -> str:
    """The URL's scheme, after checking it is one we can write to (and chDB is installed)."""
    scheme = urlparse(url).scheme
    if scheme not in _SERVER_SCHEMES | {"chdb"}:
        raise ValueError(
            f"clickhouse_url: unknown scheme {scheme!r} in {url!r} "
            "(use http://, https://, clickhouse:// or chdb:///path)"
        )
    if scheme == "chdb" and importlib.util.find_spec("chdb") is None:
        raise MissingExtra(CHDB_HINT)
    return scheme


def connect(url: str) -> Any:
    """A clickhouse-connect client for a server URL or a `chdb:///path` URL."""
    scheme = check_url(url)
    if scheme == "chdb":
        Path(urlparse(url).path).parent.mkdir(parents=True, exist_ok=True)
    import clickhouse_connect

    if scheme.startswith("clickhouse"):  # clickhouse-connect's DSNs say http(s)
        url = url.replace("clickhouses://", "https://", 1).replace("clickhouse://", "http://", 1)
    return clickhouse_connect.get_client(dsn=url)


class ClickHouseStore:
    """`{database}.results_log`, a ReplacingMergeTree ordered by result_id, read through the
    view `{database}.results` (or another `table`'s, ordered by its key).

    A batch is written without the keys already stored, so a redelivered batch
    inserts nothing; should two writers race, the engine collapses their duplicates on
    merge (query with FINAL to see that at once).
    """

    def __init__(self, url: str, database: str = "eaflow", table: Table = RESULTS) -> None:
        if not database.isidentifier():
            raise ValueError(f"database: must be an identifier, got {database!r}")
        check_url(url)
        self.url = url
        self.database = database
        self.table = table
        self.name = f"clickhouse{table.tag}"
        self._client: Any = None

    @property
    def is_open(self) -> bool:
        return self._client is not None

    def open(self) -> None:
        if self._client is not None:
            return
        try:
            client = connect(self.url)
        except Exception as error:
            raise SinkUnavailable(
                f"clickhouse: cannot open {self.url}: {first_line(error)}"
            ) from error
        try:
            self._migrate(client)
        except BaseException:
            client.close()
            raise
        self._client = client

    def _migrate(self, client: Any) -> None:
        db = self.database
        client.command(f"CREATE DATABASE IF NOT EXISTS {db}")
        client.command(
            f"CREATE TABLE IF NOT EXISTS {db}.schema_versions (component String, "
            "version UInt32, migrated_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
            "ENGINE = ReplacingMergeTree(version) ORDER BY component"
        )
        component = self.table.name  # an identifier of ours, never user input
        rows = client.query(
            f"SELECT max(version) FROM {db}.schema_versions WHERE component = '{component}'"
        ).result_rows
        current = int(rows[0][0]) if rows and rows[0][0] is not None else 0
        for version, statements in self.table.clickhouse_migrations:
            if version <= current:
                continue
            for statement in statements:  # each statement is idempotent: no transactions here
                client.command(statement.format(db=db))
            client.command(
                f"INSERT INTO {db}.schema_versions (component, version) "
                f"VALUES ('{component}', {int(version)})"
            )

    def write(self, batch: pa.Table) -> int:
        self.open()
        if batch.num_rows == 0:
            return 0
        key, log_table = self.table.key, self.table.clickhouse_table
        ids = batch.column(key).to_pylist()
        stored = self._client.query(
            f"SELECT {key} FROM {self.database}.{log_table} WHERE {key} IN {{ids:Array(String)}}",
            parameters={"ids": ids},
        ).result_rows
        if stored:
            known = pa.array([row[0] for row in stored], pa.string())
            batch = batch.filter(pc.invert(pc.is_in(batch.column(key), value_set=known)))
        if batch.num_rows:
            self._client.insert_arrow(log_table, batch, database=self.database)
        return int(batch.num_rows)

    def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            client.close()
