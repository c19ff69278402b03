"""The order state machine: its transitions are the only way an order's status changes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from model.enums import OrderStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.RECEIVED: frozenset({S.ROUTED, S.REJECTED}),
    S.ROUTED: frozenset({S.SENT, S.REJECTED, S.FAILED}),
    # SENT -> SENT is a retry of a retryable retcode (requote, price changed, timeout...).
    S.SENT: frozenset(
        {S.SENT, S.FILLED, S.PLACED, S.MODIFIED, S.CLOSED, S.CANCELLED, S.REJECTED, S.FAILED}
    ),
}


class IllegalTransition(RuntimeError):
    """A status change the state machine does not allow (a bug, never bad input)."""


@dataclass
class OrderLifecycle:
    """Status and the time each status was entered (epoch seconds)."""

    status: S = S.RECEIVED
    times: dict[S, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.times.setdefault(self.status, time.time())

    def advance(self, to: S, at: float | None = None) -> None:
        if to not in TRANSITIONS.get(self.status, frozenset()):
            raise IllegalTransition(f"order cannot go from {self.status} to {to}")
        self.status = to
        self.times[to] = time.time() if at is None else at

    def at(self, status: S) -> float | None:
        return self.times.get(status)
