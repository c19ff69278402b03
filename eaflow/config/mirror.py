"""The configuration in Redis: publish a version, back it up, restore it into an empty Redis.

Instances read only Redis (`processors.registry.InstanceRegistry` keys). A trading state
switched at run time (an `eaoff` alert) lives in Redis; publishing another change keeps
it, and only a change that sets `trading_state` itself overrides it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pydantic import ValidationError
from redis.exceptions import WatchError
from redis.typing import EncodableT, FieldT

from eaflow.config.scopes import GLOBAL, Document, effective
from eaflow.config.store import Backup, ConfigSnapshot
from model import InstanceSpec, TradingState, new_id
from processors.registry import InstanceRegistry
from streams.reader import text


def specs_of(snapshot: ConfigSnapshot) -> dict[str, InstanceSpec]:
    """Every instance's spec with its effective configuration at the snapshot's version."""
    defaults = snapshot.scope(GLOBAL)
    return {
        instance_id: InstanceSpec.model_validate(
            {
                **definition,
                "instance_id": instance_id,
                "config": effective(defaults, snapshot.scope(instance_id)),
                "config_version": snapshot.version,
            }
        )
        for instance_id, definition in snapshot.instances.items()
    }


def global_state(snapshot: ConfigSnapshot) -> TradingState:
    return TradingState(snapshot.scope(GLOBAL).get("trading_state", TradingState.ACTIVE))


async def publish(
    registry: InstanceRegistry, snapshot: ConfigSnapshot, states_from: Collection[str] = ()
) -> dict[str, InstanceSpec]:
    """Write the snapshot's specs and version in one transaction; trading states come from
    the snapshot only for scopes in `states_from` (and for instances new to Redis)."""
    specs = specs_of(snapshot)
    redis = registry.redis
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(registry.keys.instances, registry.keys.trading_state)
                current = await pipe.hgetall(registry.keys.instances)
                has_state = await pipe.exists(registry.keys.trading_state)
                specs = {i: _keep_state(s, current, states_from) for i, s in specs.items()}
                pipe.multi()  # type: ignore[no-untyped-call]
                if specs:
                    mapping: dict[FieldT, EncodableT] = {
                        i: s.model_dump_json() for i, s in specs.items()
                    }
                    pipe.hset(registry.keys.instances, mapping=mapping)
                if GLOBAL in states_from or not has_state:
                    pipe.set(registry.keys.trading_state, global_state(snapshot).value)
                pipe.set(registry.keys.config_version, snapshot.version)
                pipe.set(registry.keys.instances_rev, new_id())
                await pipe.execute()
                return specs
            except WatchError:
                continue


def _keep_state(
    spec: InstanceSpec, current: dict[Any, Any], states_from: Collection[str]
) -> InstanceSpec:
    raw = current.get(spec.instance_id.encode(), current.get(spec.instance_id))
    if raw is None or spec.instance_id in states_from:
        return spec
    try:
        running = InstanceSpec.model_validate_json(raw).config.trading_state
    except ValidationError:
        return spec
    return spec.model_copy(
        update={"config": spec.config.model_copy(update={"trading_state": running})}
    )


def adoption(spec: InstanceSpec, defaults: Document) -> tuple[Document, Document]:
    """An instance found only in Redis as (definition, overrides): its overrides are the
    fields where its configuration differs from what the global scope gives it."""
    definition = spec.model_dump(mode="json", exclude={"config", "config_version"})
    inherited = effective(defaults, {}).model_dump(mode="json")
    own = spec.config.model_dump(mode="json")
    overrides = {k: v for k, v in own.items() if inherited.get(k) != v}
    return definition, overrides


Entry = tuple[str, str | None, str]


async def backup_entries(registry: InstanceRegistry) -> tuple[int, list[Entry]]:
    """The configuration keys of Redis as (key, field, value) rows, and their version."""
    redis = registry.redis
    pipe = redis.pipeline(transaction=True)
    pipe.hgetall(registry.keys.instances)
    pipe.get(registry.keys.trading_state)
    pipe.get(registry.keys.config_version)
    specs, state, version = await pipe.execute()
    entries: list[Entry] = [
        (registry.keys.instances, text(field), text(value)) for field, value in specs.items()
    ]
    if state is not None:
        entries.append((registry.keys.trading_state, None, text(state)))
    if version is not None:
        entries.append((registry.keys.config_version, None, text(version)))
    return int(version or 0), entries


async def is_empty(registry: InstanceRegistry) -> bool:
    """No configuration in Redis: no instances, no version (a fresh or lost Redis)."""
    return not await registry.redis.exists(registry.keys.instances, registry.keys.config_version)


async def restore(registry: InstanceRegistry, backup: Backup) -> int:
    """Write a backup's keys into Redis in one transaction; returns how many were written.

    Keys are re-rooted on the registry's prefix, so a backup restores under another one.
    """
    roots = {
        "instances": registry.keys.instances,
        "trading_state": registry.keys.trading_state,
        "config:version": registry.keys.config_version,
    }
    pipe = registry.redis.pipeline(transaction=True)
    specs: dict[FieldT, EncodableT] = {}
    for key, field, value in backup.entries:
        target = next((k for suffix, k in roots.items() if key.endswith(suffix)), None)
        if target == registry.keys.instances and field is not None:
            InstanceSpec.model_validate_json(value)  # refuse a backup that no longer loads
            specs[field] = value
        elif target is not None:
            pipe.set(target, value)
    if specs:
        pipe.hset(registry.keys.instances, mapping=specs)
    pipe.set(registry.keys.instances_rev, new_id())
    await pipe.execute()
    return len(backup.entries)
