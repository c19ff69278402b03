"""Short-lived DuckDB connections that wait for another process's lock.

DuckDB lets one process write a database file at a time, and the CLI, the HTTP API and
the workers all write the configuration database; so each opens it only for one
operation and retries while another holds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_random_exponential

from eaflow.settings import Settings

FILE_NAME = "config.duckdb"


def config_db_path(settings: Settings) -> Path:
    """`{data_dir}/config.duckdb`: configuration, its history, backups and state snapshots."""
    return settings.data_dir / FILE_NAME


def _locked(error: BaseException) -> bool:
    return isinstance(error, duckdb.IOException) and "lock" in str(error).lower()


@contextmanager
def connect(path: Path, wait: float = 10.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to `path`, retried for up to `wait` seconds while the file is locked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    retrying = Retrying(
        retry=retry_if_exception(_locked),
        wait=wait_random_exponential(multiplier=0.02, max=0.5),
        stop=stop_after_delay(wait),
        reraise=True,
    )
    connection = retrying(duckdb.connect, str(path))
    try:
        yield connection
    finally:
        connection.close()
