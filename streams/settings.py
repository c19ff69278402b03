"""`AppSettings`: the runtime's one frozen configuration object, every knob documented."""

from __future__ import annotations

import re
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from streams.clients import is_cluster, is_sentinel
from streams.durable import Durability

HASH_TAG = re.compile(r"^\{[^{}]+\}")
"""`{tag}` at the start of the prefix: Redis hashes only the tag, so all keys share a slot."""


class AppSettings(BaseModel):
    """Where Redis is, how keys are named, and how agents read, retry, claim and give up.

    Example: ``AppSettings(redis_url="redis://127.0.0.1:6379/0", prefix="ea:")``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    redis_url: str = Field(
        "redis://127.0.0.1:6379/0",
        description=(
            "redis://, rediss:// or unix:// URL; redis+cluster:// for a Redis Cluster, "
            "redis+sentinel://host:port,.../service for the primary Sentinels name."
        ),
    )
    prefix: str = Field("ea:", description="Prepended to every key: topics, fails, DLQs.")
    name: str = Field("eaflow", min_length=1, description="Application name, for logs.")
    consumer: str | None = Field(
        None,
        min_length=1,
        description="Fixed consumer name (default: hostname-pid-random, unique per agent).",
    )
    start_id: str = Field(
        "$", description='Where new consumer groups start: "$" = new entries, "0" = all.'
    )
    batch_size: int = Field(100, gt=0, description="XREADGROUP COUNT, per stream.")
    block_ms: int = Field(
        1000, gt=0, le=1000, description="XREADGROUP BLOCK; at most 1 s so a stop is noticed."
    )
    max_deliveries: int = Field(
        5, ge=1, description="Failed deliveries before an entry moves to its DLQ."
    )
    retry_initial: float = Field(0.05, gt=0, description="First retry delay after a failure, s.")
    retry_max: float = Field(2.0, gt=0, description="Cap of the doubling retry delay, s.")
    claim_interval: float = Field(5.0, gt=0, description="Seconds between XAUTOCLAIM rounds.")
    claim_min_idle_ms: int = Field(
        30_000, ge=0, description="Idle time before another consumer's entry is claimed."
    )
    claim_count: int = Field(100, gt=0, description="XAUTOCLAIM COUNT per stream and round.")
    consumer_max_idle_ms: int = Field(
        60_000,
        gt=0,
        description="Consumers idle this long with nothing pending are deleted (dead ones "
        "whose entries were claimed; a live one is created again by its next read).",
    )
    reconnect_initial: float = Field(0.1, gt=0, description="First wait after a lost link, s.")
    reconnect_max: float = Field(2.0, gt=0, description="Cap of the reconnect wait, s.")
    socket_timeout: float = Field(
        10.0, gt=0, description="Redis socket timeout, s; longer than block_ms."
    )
    lease_ms: int = Field(
        10_000,
        ge=100,
        description="Lease of an exclusive agent on a stream: how long a holder that stops "
        "renewing it (a process gone without a word) keeps others from taking over, ms.",
    )
    wait_replicas: int | None = Field(
        None,
        ge=0,
        description="Replicas that must acknowledge a write before what depends on it "
        "happens (WAIT); None: 1 with a Sentinel URL, else 0 (no WAIT).",
    )
    wait_timeout_ms: int = Field(
        1000, gt=0, description="How long a write waits for its replicas, ms."
    )
    task_restart_initial: float = Field(
        1.0, gt=0, description="Wait before restarting a task that failed, s (doubling)."
    )
    task_restart_max: float = Field(
        30.0, gt=0, description="Cap of the task restart wait, s; a longer run resets it."
    )

    @property
    def durability(self) -> Durability:
        """The WAIT that writes which must survive a failover take (decision 0019)."""
        replicas = self.wait_replicas
        if replicas is None:
            replicas = 1 if is_sentinel(self.redis_url) else 0
        return Durability(replicas, self.wait_timeout_ms)

    @property
    def lease_renew(self) -> float:
        """Seconds between renewals of an exclusive agent's leases: a third of the lease."""
        return self.lease_ms / 3000

    @model_validator(mode="after")
    def _one_slot_on_a_cluster(self) -> Self:
        if is_cluster(self.redis_url) and not HASH_TAG.match(self.prefix):
            raise ValueError(
                f"prefix: on a Redis Cluster it must start with a hash tag such as '{{ea}}:' "
                f"(got {self.prefix!r}), so every key an agent commits is in one slot"
            )
        if is_cluster(self.redis_url) and self.wait_replicas:
            raise ValueError(
                "wait_replicas: WAIT is not supported on a Redis Cluster yet (set it to 0)"
            )
        return self

    @model_validator(mode="after")
    def _timeouts_fit(self) -> Self:
        if self.socket_timeout * 1000 <= self.block_ms:
            raise ValueError("socket_timeout: must be longer than block_ms")
        if self.retry_max < self.retry_initial:
            raise ValueError("retry_max: must be at least retry_initial")
        if self.reconnect_max < self.reconnect_initial:
            raise ValueError("reconnect_max: must be at least reconnect_initial")
        if self.task_restart_max < self.task_restart_initial:
            raise ValueError("task_restart_max: must be at least task_restart_initial")
        return self
