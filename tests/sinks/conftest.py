"""Results as the executor and router write them, for the sink tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from model import AccountState, Action, OrderStatus, Result
from model.trade import TradeEvent, TradeState, TradeStatus
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


def trade(n: int, instance: str = "demo-1", strategy: str | None = "trend") -> list[TradeState]:
    """Trade n's entries: opened, stop loss moved, half closed, closed; its deals earned
    10 + n on the partial close and n - 4 on the rest, minus commission and swap."""
    ticket = 5000 + n
    opened = TradeState(
        state_id=f"{instance}:{ticket}:1",
        trade_id=ticket,
        instance=instance,
        seq=1,
        event=TradeEvent.OPENED,
        status=TradeStatus.OPEN,
        symbol="EURUSD",
        side="buy",
        volume=0.2,
        entry_price=1.12345,
        stop_loss=1.12,
        take_profit=1.125,
        profit=0.0,
        commission=-0.7,
        comment=f"{strategy}#abcdefghijkl" if strategy else "ea:0123456789abcdef0123",
        strategy=strategy,
        opened_at=T0 + n * 60,
        ts=T0 + n * 60,
    )
    moved = opened.model_copy(
        update={
            "state_id": f"{instance}:{ticket}:2",
            "seq": 2,
            "event": TradeEvent.MODIFIED,
            "stop_loss": 1.1225,
            "profit": 3.0,
            "ts": T0 + n * 60 + 5,
        }
    )
    half = moved.model_copy(
        update={
            "state_id": f"{instance}:{ticket}:3",
            "seq": 3,
            "event": TradeEvent.PARTIALLY_CLOSED,
            "volume": 0.1,
            "closed_volume": 0.1,
            "realized_profit": 10.0 + n,
            "commission": -1.05,
            "close_price": 1.1245,
            "ts": T0 + n * 60 + 10,
        }
    )
    closed = half.model_copy(
        update={
            "state_id": f"{instance}:{ticket}:4",
            "seq": 4,
            "event": TradeEvent.CLOSED,
            "status": TradeStatus.CLOSED,
            "closed_volume": 0.2,
            "profit": 6.0 + 2 * n,
            "realized_profit": 6.0 + 2 * n,
            "commission": -1.4,
            "swap": -0.25,
            "close_price": 1.1230,
            "closed_at": T0 + n * 60 + 30,
            "ts": T0 + n * 60 + 30,
        }
    )
    return [opened, moved, half, closed]


def trade_session() -> list[TradeState]:
    """Twelve trades on three instances and three strategies (one untagged); the last two
    still open."""
    entries: list[TradeState] = []
    for n in range(12):
        kept = {10: 3, 11: 1}.get(n, 4)  # trade 10 is half closed, trade 11 only opened
        entries += trade(n, f"demo-{n % 3 + 1}", ("trend", "scalp", None)[n % 4 % 3])[:kept]
    return entries


def account(instance: str, k: int, balance: float) -> AccountState:
    """`instance`'s snapshot `k`, taken k / 2 seconds after T0: its equity moves with every
    snapshot, as the state sync sees an account with a position open."""
    return AccountState(
        instance=instance,
        login=7_000 + int(instance[-1]),
        currency="USD",
        balance=balance,
        equity=balance + 10.0 + (k % 9) * 1.5 - 6.0,
        margin=50.0,
        margin_free=balance - 40.0,
        margin_level=200.0,
        profit=(k % 9) * 1.5 - 6.0,
        ts=T0 + k / 2,
    )


DEALS = {"demo-1": {25: 12.5, 66: -4.0}, "demo-2": {81: 30.0}}
"""instance → {snapshot k: the profit a deal adds to its balance from that snapshot on}."""


def state_session() -> list[AccountState]:
    """A minute of two instances' snapshots, every 0.5 s, in time order: demo-1's balance
    changes at 12.5 s and 33 s, demo-2's at 40.5 s."""
    states = []
    balances = {"demo-1": 10_000.0, "demo-2": 5_000.0}
    for k in range(120):
        for instance, deals in DEALS.items():
            balances[instance] += deals.get(k, 0.0)
            states.append(account(instance, k, balances[instance]))
    return states


SAMPLED = {
    "demo-1": [0, 10, 12.5, 22.5, 32.5, 33, 43, 53],
    "demo-2": [0, 10, 20, 30, 40, 40.5, 50.5],
}
"""The seconds after T0 of state_session()'s rows kept every 10 s: the balance changes
(12.5, 33; 40.5) and, from each row, the first snapshot 10 s later."""
