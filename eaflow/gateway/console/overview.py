"""One overview row per instance: its spec, its manager's last report and its snapshot."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from model import AccountState, InstanceSpec
from model.config import TradingState
from model.report import InstanceReport, InstanceStatus

SHOWN_STATUS = {
    InstanceStatus.DEGRADED: "disconnected",
    InstanceStatus.SYNC_DISABLED: "sync lost",
}


def status_of(spec: InstanceSpec, report: InstanceReport | None) -> str:
    """What the operator sees first: an operator's halt or reduce wins over `running` (the
    account is up but does not trade); a broken link wins over the trading state."""
    if report is None:
        return "no report"
    if report.status == InstanceStatus.RUNNING:
        state = spec.config.trading_state
        return "running" if state == TradingState.ACTIVE else state.value
    return SHOWN_STATUS.get(report.status, report.status.value)


def parse_report(raw: bytes | None) -> InstanceReport | None:
    if raw is None:
        return None
    try:
        return InstanceReport.model_validate_json(raw)
    except ValidationError:
        return None


def parse_state(raw: bytes | None) -> AccountState | None:
    if raw is None:
        return None
    try:
        return AccountState.model_validate_json(raw)
    except ValidationError:
        return None


def row(
    spec: InstanceSpec, report: InstanceReport | None, state: AccountState | None
) -> dict[str, Any]:
    """The figures of one instance; None where it has not reported them yet."""
    return {
        "instance": spec.instance_id,
        "groups": list(spec.groups),
        "status": status_of(spec, report),
        "trading_state": spec.config.trading_state.value,
        "balance": state.balance if state else None,
        "equity": state.equity if state else None,
        "margin_level": state.margin_level if state else None,
        "floating": state.profit if state else None,
        "currency": state.currency if state else None,
        "positions": len(state.positions) if state else None,
        "orders": len(state.orders) if state else None,
        "heartbeat": report.ts if report else None,
        "error": (report.error if report else None) or (state.last_error if state else None),
    }
