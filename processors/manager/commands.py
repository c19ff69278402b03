"""Operators' side of the instance manager: ask for stop/start/restart, read the statuses.

Requests are Redis hashes the managers read every cycle, so they reach an instance
wherever it runs; what each instance last reported is in `{prefix}instances:status`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from model import InstanceReport, InstanceSpec
from model.keys import Keys
from processors.registry import InstanceRegistry
from streams.reader import text


class UnknownInstance(ValueError):
    """Names an instance the registry does not have."""


@dataclass(frozen=True)
class InstanceRow:
    """One instance as `eaflow instances list` and `eaflow status` show it."""

    instance: str
    broker: str
    login: int
    wanted: str  # "running" or "stopped", as operators asked
    published: int  # configuration version in Redis for it
    applied: int | None  # the version it reports applying
    report: InstanceReport | None  # its latest report

    @property
    def status(self) -> str:
        return "unknown" if self.report is None else self.report.status.value

    @property
    def age(self) -> float | None:
        """Seconds since its latest report."""
        return None if self.report is None else max(0.0, time.time() - self.report.ts)

    def as_json(self) -> dict[str, Any]:
        return {
            "instance": self.instance,
            "broker": self.broker,
            "login": self.login,
            "wanted": self.wanted,
            "status": self.status,
            "published": self.published,
            "applied": self.applied,
            "age": self.age,
            "report": None if self.report is None else self.report.model_dump(mode="json"),
        }


async def _known(registry: InstanceRegistry, instances: Sequence[str]) -> list[str]:
    specs = await registry.all()
    unknown = [i for i in instances if i not in specs]
    if unknown:
        raise UnknownInstance(f"instance: unknown instance {', '.join(unknown)}")
    return list(instances)


async def stop(registry: InstanceRegistry, instances: Sequence[str]) -> None:
    """Stopped instances send nothing to their brokers until started again."""
    chosen = await _known(registry, instances)
    await registry.redis.hset(
        Keys(registry.prefix).instances_desired, mapping=dict.fromkeys(chosen, "stopped")
    )


async def start(registry: InstanceRegistry, instances: Sequence[str]) -> None:
    chosen = await _known(registry, instances)
    await registry.redis.hdel(Keys(registry.prefix).instances_desired, *chosen)


async def restart(registry: InstanceRegistry, instances: Sequence[str]) -> None:
    """A new broker session for each (a running instance is stopped and started)."""
    chosen = await _known(registry, instances)
    await registry.redis.hset(
        Keys(registry.prefix).instances_restart, mapping=dict.fromkeys(chosen, repr(time.time()))
    )


async def rows(registry: InstanceRegistry) -> list[InstanceRow]:
    """Every registered instance with its wishes, versions and latest report."""
    pipe = registry.redis.pipeline(transaction=False)
    pipe.hgetall(registry.keys.instances)
    pipe.hgetall(Keys(registry.prefix).instances_desired)
    pipe.hgetall(registry.keys.config_applied)
    pipe.hgetall(Keys(registry.prefix).instances_status)
    specs_raw, desired, applied, reports = (
        {text(k): v for k, v in found.items()} for found in await pipe.execute()
    )
    result = []
    for instance in sorted(specs_raw):
        try:
            spec = InstanceSpec.model_validate_json(specs_raw[instance])
        except ValidationError:
            continue
        result.append(
            InstanceRow(
                instance=instance,
                broker=spec.broker,
                login=spec.login,
                wanted="stopped" if desired.get(instance) == b"stopped" else "running",
                published=spec.config_version,
                applied=int(applied[instance]) if instance in applied else None,
                report=_report(reports.get(instance)),
            )
        )
    return result


def _report(raw: bytes | None) -> InstanceReport | None:
    if raw is None:
        return None
    try:
        return InstanceReport.model_validate_json(raw)
    except ValidationError:
        return None
