"""Durable before irreversible: writes that must survive a failover wait for replicas.

Redis replicates asynchronously: a write the primary acknowledged can be lost with it when a
replica is promoted. `WAIT n timeout`, sent on the connection that wrote, returns how many
replicas have received everything that connection wrote (and, the replication stream being
one ordered log, everything written before it by anyone). A write followed by a WAIT that
`n` replicas answered survives the promotion of any of them. `Durability` is that rule for a
deployment: how many replicas (0: none, no WAIT is sent) and how long to wait for them; a
wait that falls short raises `NotReplicated`, and the caller must not take the step that
depended on the write (decision 0019).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError


class NotReplicated(RedisError):
    """Written on the primary, but fewer replicas than asked acknowledged it in time: it may
    be lost with the primary. Whatever depended on it must wait (and may be retried)."""

    def __init__(self, what: str, acked: int, wanted: int, timeout_ms: int) -> None:
        super().__init__(
            f"{what}: written, but {acked} of {wanted} replicas acknowledged it within "
            f"{timeout_ms} ms (it may be lost in a failover)"
        )
        self.acked = acked
        self.wanted = wanted


@dataclass(frozen=True, slots=True)
class Durability:
    """How many replicas must hold a write before what depends on it happens."""

    replicas: int = 0
    timeout_ms: int = 1000

    def __post_init__(self) -> None:
        if self.replicas < 0:
            raise ValueError(f"replicas: must be >= 0, got {self.replicas}")
        if self.timeout_ms <= 0:
            raise ValueError(f"timeout_ms: must be positive, got {self.timeout_ms}")

    def __bool__(self) -> bool:
        return self.replicas > 0

    def queue(self, pipe: Any) -> bool:
        """Queue the WAIT on `pipe` (a pipeline without MULTI, so it runs on the connection
        that wrote), after the writes it covers; False when no wait is asked for."""
        if not self.replicas:
            return False
        pipe.execute_command("WAIT", self.replicas, self.timeout_ms)
        return True

    def check(self, acked: Any, what: str) -> None:
        """Raise `NotReplicated` unless `acked` (WAIT's reply) reaches `replicas`."""
        if int(acked) < self.replicas:
            raise NotReplicated(what, int(acked), self.replicas, self.timeout_ms)
