"""Results as the executor and router write them, for the sink tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from model import Action, OrderStatus, Result
from sinks.clickhouse import ClickHouseStore, chdb_url

T0 = 1_715_000_000.0  # 2024-05-06 12:53:20 UTC


def fill(n: int, instance: str = "demo-1", **changes: object) -> Result:
    """A filled EURUSD market buy at a recorded quote, 1 ms of slippage per third order."""
    base = Decimal("1.38755")
    values: dict[str, object] = {
        "result_id": f"o{n}@{instance}",
        "order_id": f"o{n}",
        "signal_id": f"s{n}",
        "instance": instance,
        "action": Action.OPEN,
        "symbol": "EURUSD",
        "status": OrderStatus.FILLED,
        "retcode": 10009,
        "retcode_name": "TRADE_RETCODE_DONE",
        "order_ticket": 1000 + n,
        "deal_ticket": 2000 + n,
        "position_ticket": 1000 + n,
        "requested_price": base,
        "price": base + Decimal("0.00001") * (n % 3),
        "volume": Decimal("0.10"),
        "source": "tradingview",
        "received_at": T0 + n,
        "routed_at": T0 + n + 0.0004,
        "sent_at": T0 + n + 0.0009,
        "done_at": T0 + n + 0.0021,
    }
    values.update(changes)
    return Result.model_validate(values)


def rejection(n: int, field: str = "volume", rule: str = "must be on the volume step") -> Result:
    return Result(
        result_id=f"r{n}@*",
        order_id=f"r{n}",
        signal_id=f"rs{n}",
        instance="*",
        action=Action.OPEN,
        symbol="EURUSD",
        status=OrderStatus.REJECTED,
        field=field,
        error=f"{field}: {rule}",
        source="api",
        received_at=T0 + n,
        done_at=T0 + n + 0.0003,
    )


class LockHolder:
    """Another process holding DuckDB's lock on `path` until `release()`."""

    def __init__(self, path: Path) -> None:
        code = (
            f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('held', flush=True); "
            "sys.stdin.readline()"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline() == b"held\n"

    def release(self) -> None:
        """Close its pipes (its stdin ends, and so does it) and wait for it."""
        with self.process:  # Popen's exit closes stdout and stdin, then waits
            pass


@pytest.fixture
def chdb_store(tmp_path: Path) -> Iterator[ClickHouseStore]:
    """A ClickHouse store on embedded chDB in the test's directory (one engine per process:
    closed after the test so the next test can open its own)."""
    store = ClickHouseStore(chdb_url(tmp_path))
    yield store
    store.close()
