"""Prometheus metrics of the instances a worker hosts: up, status, equity, config version."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from model import InstanceStatus

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


class InstanceGauges:
    """One instance's gauges, resolved once; status and version are set when they change."""

    def __init__(self, instance: str) -> None:
        self.up = INSTANCE_UP.labels(instance)
        self.statuses = {s: INSTANCE_STATUS.labels(instance, s.value) for s in InstanceStatus}
        self.version = CONFIG_VERSION_APPLIED.labels(instance)
        self.equity = INSTANCE_EQUITY.labels(instance)
        self.balance = INSTANCE_BALANCE.labels(instance)
        self._status: InstanceStatus | None = None
        self._version: int | None = None

    def observe(
        self, status: InstanceStatus, version: int, equity: float | None, balance: float | None
    ) -> None:
        if status is not self._status:
            self._status = status
            self.up.set(1 if status in UP else 0)
            for each, gauge in self.statuses.items():
                gauge.set(1 if each is status else 0)
        if version != self._version:
            self._version = version
            self.version.set(version)
        if equity is not None:
            self.equity.set(equity)
        if balance is not None:
            self.balance.set(balance)
