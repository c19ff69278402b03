"""The configuration in Redis: publish a version, back it up, restore it into an empty Redis.

Instances read only Redis (`processors.registry.InstanceRegistry` keys). Each instance's
`trading_state` is the operator's, from the store: published as it is there, so Redis never
says otherwise than the configuration and its history. An `eaoff`/`eaon` alert switches
its own key (`switch:{instance}`), which publishing leaves alone. The global kill switch
(`trading_state`) may be set in Redis directly in an emergency: publishing keeps it unless
the change sets the global `trading_state` itself.
"""

from __future__ import annotations

from collections.abc import Collection

from redis.exceptions import WatchError
from redis.typing import EncodableT, FieldT

from eaflow.config.scopes import GLOBAL, Document, effective
from eaflow.config.store import Backup, ConfigSnapshot
from model import InstanceSpec, TradingState, new_id
from model.config import AlertSwitch
from model.keys import Keys
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
    """Write the snapshot's specs and version in one transaction; the global kill switch
    comes from the snapshot only when `states_from` holds GLOBAL (or Redis has none)."""
    specs = specs_of(snapshot)
    redis = registry.redis
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(registry.keys.trading_state)
                has_state = await pipe.exists(registry.keys.trading_state)
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


def adoption(spec: InstanceSpec, defaults: Document) -> tuple[Document, Document]:
    """An instance found only in Redis as (definition, overrides): its overrides are the
    fields where its configuration differs from what the global scope gives it."""
    definition = spec.model_dump(mode="json", exclude={"config", "config_version"})
    inherited = effective(defaults, {}).model_dump(mode="json")
    own = spec.config.model_dump(mode="json")
    overrides = {k: v for k, v in own.items() if inherited.get(k) != v}
    return definition, overrides


Entry = tuple[str, str | None, str]
SWITCH = Keys("").switch("")
"""The name of an alert switch's key before its instance id (`switch:`)."""


async def backup_entries(registry: InstanceRegistry) -> tuple[int, list[Entry]]:
    """The configuration keys of Redis as (key, field, value) rows, and their version: the
    specs, the global kill switch, the version and the instances' alert switches."""
    redis = registry.redis
    keys = registry.keys
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(keys.instances)
                ids = [text(i) for i in await pipe.hkeys(keys.instances)]
                pipe.multi()  # type: ignore[no-untyped-call]
                pipe.hgetall(keys.instances)
                pipe.get(keys.trading_state)
                pipe.get(keys.config_version)
                for instance in ids:
                    pipe.get(keys.switch(instance))
                specs, state, version, *switches = await pipe.execute()
                break
            except WatchError:
                continue
    entries: list[Entry] = [
        (keys.instances, text(field), text(value)) for field, value in specs.items()
    ]
    if state is not None:
        entries.append((keys.trading_state, None, text(state)))
    if version is not None:
        entries.append((keys.config_version, None, text(version)))
    for instance, switch in zip(ids, switches, strict=True):
        if switch is not None:
            entries.append((keys.switch(instance), None, text(switch)))
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
        if field is None and value.startswith("{"):  # an alert switch (the others: text)
            AlertSwitch.model_validate_json(value)  # refuse a backup that no longer loads
            pipe.set(registry.keys.switch(key.rpartition(SWITCH)[2]), value)
        elif target == registry.keys.instances and field is not None:
            InstanceSpec.model_validate_json(value)  # refuse a backup that no longer loads
            specs[field] = value
        elif target is not None:
            pipe.set(target, value)
    if specs:
        pipe.hset(registry.keys.instances, mapping=specs)
    pipe.set(registry.keys.instances_rev, new_id())
    await pipe.execute()
    return len(backup.entries)
