"""The chaos run's knobs and its random fault schedule, reproducible from one seed."""

from __future__ import annotations

import os
import random
import secrets
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["kill", "broker", "redis"]


@dataclass(frozen=True)
class ChaosConfig:
    """How hard a run pushes. `EAFLOW_CHAOS_SCALE` multiplies signals and Redis restarts:
    1 (CI, a few minutes on 2 cores) drives 2,000 signals, 2.5 the full 5,000;
    `EAFLOW_CHAOS_SEED` replays a run; `EAFLOW_CHAOS_RECORD` names a JSON file the run's
    figures are appended to (docs/reliability.json for the published figures)."""

    seed: int
    signals: int = 2000
    instances: int = 24
    batch: int = 250  # signals per `eaflow send`
    send_pause: float = 1.0  # seconds between sends
    redis_restarts: int = 2
    fault_gap: tuple[float, float] = (0.5, 2.5)  # seconds between two faults
    worker_down: tuple[float, float] = (0.1, 2.0)  # seconds a killed worker stays dead
    worker_rest: float = 2.0  # a worker is killed only after working this long
    broker_down: tuple[float, float] = (1.0, 6.0)  # seconds a broker connection stays cut
    redis_down: tuple[float, float] = (0.3, 2.0)  # seconds Redis stays dead
    kill_share: float = 0.65  # of faults that are not Redis restarts; the rest cut brokers

    @classmethod
    def from_env(cls) -> ChaosConfig:
        seed_text = os.environ.get("EAFLOW_CHAOS_SEED", "")
        seed = int(seed_text) if seed_text else secrets.randbelow(2**31)
        scale = float(os.environ.get("EAFLOW_CHAOS_SCALE", "1"))
        if scale <= 0:
            raise ValueError(f"EAFLOW_CHAOS_SCALE: must be > 0, got {scale}")
        signals = max(500, int(2000 * scale))
        return cls(seed=seed, signals=signals, redis_restarts=max(1, round(2 * scale)))


@dataclass(frozen=True)
class Fault:
    """One thing to break: a worker (`target` = its name), a broker (an instance's login)
    or Redis, for `down` seconds."""

    kind: FaultKind
    target: str
    down: float


class Schedule:
    """Draws faults from the seed: the same seed gives the same sequence of choices.

    Redis restarts happen when given shares of the results are in (drawn up front, between
    10 % and 85 %, so they land while work flows); kills and broker cuts follow each other
    at random gaps. Wall-clock timing still varies between machines.
    """

    def __init__(self, config: ChaosConfig, workers: list[str], logins: list[int]) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.workers = workers
        self.logins = logins
        self.redis_at = sorted(
            round(self.rng.uniform(0.1, 0.85), 3) for _ in range(config.redis_restarts)
        )

    def gap(self) -> float:
        """Seconds until the next kill or broker cut."""
        return self.rng.uniform(*self.config.fault_gap)

    def next_fault(self, killable: list[str]) -> Fault:
        """A kill of one of `killable` (live, rested workers) or a broker cut."""
        if killable and self.rng.random() < self.config.kill_share:
            return Fault("kill", self.rng.choice(sorted(killable)), self.uniform("worker_down"))
        login = self.rng.choice(self.logins)
        return Fault("broker", str(login), self.uniform("broker_down"))

    def redis_fault(self) -> Fault:
        return Fault("redis", "redis", self.uniform("redis_down"))

    def uniform(self, knob: Literal["worker_down", "broker_down", "redis_down"]) -> float:
        low, high = getattr(self.config, knob)
        return round(self.rng.uniform(low, high), 3)
