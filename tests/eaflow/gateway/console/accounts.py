"""Accounts for the console's tests: specs, their managers' reports and snapshots in Redis."""

from __future__ import annotations

import time

import redis

from model import AccountState, InstanceReport, InstanceSpec, PositionState, ReportKind
from model import InstanceStatus as S
from model.keys import Keys
from tests.eaflow.gateway.served import PREFIX

ADMIN_SECRET = "console-admin-secret-0123456789"
KEYS = Keys(PREFIX)
# instance → (groups, the manager's status; None: no report yet)
ACCOUNTS: dict[str, tuple[tuple[str, ...], S | None]] = {
    "demo-1": (("eu",), S.RUNNING),
    "demo-2": (("eu",), S.RUNNING),
    "demo-3": (("us",), S.DEGRADED),
    "demo-4": (("us",), S.SYNC_DISABLED),
    "demo-5": ((), None),
}


def position(ticket: int) -> PositionState:
    return PositionState(
        ticket=ticket,
        symbol="EURUSD",
        type=0,
        volume=0.1,
        price_open=1.0851,
        sl=0.0,
        tp=0.0,
        price_current=1.0861,
        profit=10.0,
        magic=0,
        comment="",
    )


def snapshot(instance: str, n: int, equity: float | None = None) -> AccountState:
    return AccountState(
        instance=instance,
        login=5_000_000 + n,
        currency="USD",
        balance=10_000.0 + n,
        equity=equity if equity is not None else 10_010.0 + n,
        margin=100.0,
        margin_free=9_900.0,
        margin_level=10_010.0,
        profit=10.0,
        positions=tuple(position(1000 + k) for k in range(n)),
        ts=time.time(),
    )


def seed_accounts(client: redis.Redis) -> None:
    """ACCOUNTS, each with a snapshot holding `n` positions (demo-n) and a fresh report."""
    for n, (instance, (groups, status)) in enumerate(ACCOUNTS.items(), start=1):
        spec = InstanceSpec(instance_id=instance, login=5_000_000 + n, groups=groups)
        client.hset(KEYS.instances, instance, spec.model_dump_json())
        client.set(KEYS.state(instance), snapshot(instance, n).model_dump_json())
        if status is not None:
            report = InstanceReport(instance=instance, kind=ReportKind.HEARTBEAT, status=status)
            client.hset(KEYS.instances_status, instance, report.model_dump_json())


def trading_state(client: redis.Redis, instance: str) -> str:
    """The trading state the router reads: the instance's published spec."""
    raw = client.hget(KEYS.instances, instance)
    assert raw is not None
    return InstanceSpec.model_validate_json(raw).config.trading_state.value


def seed_many(client: redis.Redis, count: int) -> list[str]:
    """`count` running instances `sim-0001`... in ten groups, each with one position."""
    names = [f"sim-{n:04d}" for n in range(1, count + 1)]
    pipe = client.pipeline(transaction=False)
    for n, instance in enumerate(names, start=1):
        spec = InstanceSpec(instance_id=instance, login=6_000_000 + n, groups=(f"g{n % 10}",))
        pipe.hset(KEYS.instances, instance, spec.model_dump_json())
        pipe.set(KEYS.state(instance), snapshot(instance, 1).model_dump_json())
        report = InstanceReport(instance=instance, kind=ReportKind.HEARTBEAT, status=S.RUNNING)
        pipe.hset(KEYS.instances_status, instance, report.model_dump_json())
    pipe.execute()
    return names
