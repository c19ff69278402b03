"""Prometheus metrics of the instances a worker hosts: up, status, equity, config version."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from eaflow.models import InstanceStatus

INSTANCE_UP = Gauge(
    "eaflow_instance_up", "1 while the instance trades (running or sync-disabled)", ["instance_id"]
)
INSTANCE_STATUS = Gauge(
    "eaflow_instance_status",
    "1 for the instance's current status, 0 for the others",
    ["instance_id", "status"],
)
INSTANCE_EQUITY = Gauge(
    "eaflow_instance_equity", "Account equity at the last sync", ["instance_id"]
)
INSTANCE_BALANCE = Gauge(
    "eaflow_instance_balance", "Account balance at the last sync", ["instance_id"]
)
CONFIG_VERSION_APPLIED = Gauge(
    "eaflow_config_version_applied", "Configuration version the instance applies", ["instance_id"]
)
INSTANCE_RESTARTS = Counter(
    "eaflow_instance_restarts", "Restarts after a crash or on request", ["instance_id"]
)
SYNC_AGE = Gauge(
    "eaflow_state_sync_age_seconds", "Age of the oldest instance state in Redis at the last sync"
)

UP = frozenset({InstanceStatus.RUNNING, InstanceStatus.SYNC_DISABLED})


def observe(
    instance: str, status: InstanceStatus, version: int, equity: float | None, balance: float | None
) -> None:
    """Set one instance's gauges."""
    INSTANCE_UP.labels(instance).set(1 if status in UP else 0)
    for each in InstanceStatus:
        INSTANCE_STATUS.labels(instance, each.value).set(1 if each is status else 0)
    CONFIG_VERSION_APPLIED.labels(instance).set(version)
    if equity is not None:
        INSTANCE_EQUITY.labels(instance).set(equity)
    if balance is not None:
        INSTANCE_BALANCE.labels(instance).set(balance)
