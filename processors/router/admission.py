"""Whether an instance's configuration admits a signal: its source and trading sessions."""

from __future__ import annotations

from datetime import UTC, datetime

from model import Action, Signal, TradingConfig
from processors.rules import Refusal


def check_admission(signal: Signal, config: TradingConfig, now: float) -> None:
    """Sources apply to every action; sessions only to new positions, so exits always go."""
    if config.allowed_sources and signal.source not in config.allowed_sources:
        allowed = ", ".join(config.allowed_sources)
        raise Refusal("source", f"{signal.source} may not trade this instance (allowed: {allowed})")
    at = datetime.fromtimestamp(now, UTC).time()
    if signal.action is Action.OPEN and not config.in_session(at):
        sessions = ", ".join(config.allowed_sessions)
        raise Refusal(
            "allowed_sessions", f"{at:%H:%M} UTC is outside the trading sessions ({sessions})"
        )
