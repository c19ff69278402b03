"""What instances report to `ris`: their status, heartbeats and events.

Every entry of `ris` is an `InstanceReport`; the latest report of each instance is also
kept in the hash `{prefix}instances:status`, which `eaflow instances list` and
`eaflow status` read.
"""

from __future__ import annotations

import os
import socket
import time
from enum import StrEnum

from pydantic import Field

from model.base import Message


class InstanceStatus(StrEnum):
    STARTING = "starting"  # its broker is being connected
    RUNNING = "running"
    DEGRADED = "degraded"  # broker unreachable: reconnecting every 5 s
    SYNC_DISABLED = "sync-disabled"  # Redis failed 3 retries: reconnecting every 2 s
    RESTARTING = "restarting"  # crashed: restarted after 3 s
    STOPPED = "stopped"  # stopped by an operator


class ReportKind(StrEnum):
    HEARTBEAT = "heartbeat"  # periodic: alive, with equity and config version
    STATUS = "status"  # the status changed
    NETWORK_ERROR = "network_error"  # Redis failed: state sync disabled
    SYNC_RESUMED = "sync_resumed"  # Redis is back: state sync resumed
    CRASHED = "crashed"  # the instance (task or process) died
    RESTART_FAILED = "restart_failed"  # a restart did not succeed: tried again after 3 s
    CONFIG_REFUSED = "config_refused"  # its published spec failed validation: old one kept
    RISK_LIMIT = "risk_limit"  # a loss limit was hit: reducing or halted until the next period
    RISK_CLEARED = "risk_cleared"  # its period ended, or an operator lifted it: trading again


HOST = socket.gethostname()


class InstanceReport(Message):
    """One `ris` entry. `ts` is when it happened, which may be earlier than when it was
    written (events raised while Redis was down are written once it is back)."""

    instance: str
    kind: ReportKind
    status: InstanceStatus
    ts: float = Field(default_factory=time.time)
    host: str = HOST
    pid: int = Field(default_factory=os.getpid)
    config_version: int = 0
    equity: float | None = None
    balance: float | None = None
    restarts: int = 0
    error: str | None = None
