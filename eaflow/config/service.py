"""Configuration changes end to end: validate, version in DuckDB, publish into Redis.

The CLI (`eaflow config ...`) and the HTTP API (`eaflow.config.http`) both go through
`ConfigService`, so a change is checked and recorded the same way whoever makes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from redis.exceptions import RedisError

from eaflow.config import mirror
from eaflow.config.scopes import (
    GLOBAL,
    ConfigRefused,
    Document,
    assign,
    canonical,
    effective,
    remove,
    storable,
    validate,
)
from eaflow.config.store import Change, ConfigSnapshot, ConfigStore, VersionConflict
from model import InstanceSpec, TradingConfig
from model.config import AlertSwitch
from processors.registry import InstanceRegistry
from streams.reader import text

ATTEMPTS = 5  # optimistic retries when another writer commits in between


@dataclass(frozen=True)
class Applied:
    """The outcome of a change: its version, the scope's document, whether Redis has it."""

    version: int
    scope: str
    document: Document
    published: bool
    error: str | None = None  # why it was not published


@dataclass(frozen=True)
class ScopeView:
    """What a scope sets, and the configuration in force for it."""

    scope: str
    document: Document
    config: TradingConfig
    version: int
    applied: dict[str, int] = field(default_factory=dict)  # instance → version it applies
    switch: AlertSwitch | None = None  # an instance's last eaoff/eaon alert, if any


class ConfigService:
    """`registry` is None when no Redis is at hand: changes are stored, not published."""

    def __init__(self, store: ConfigStore, registry: InstanceRegistry | None = None) -> None:
        self.store = store
        self.registry = registry

    async def snapshot(self) -> ConfigSnapshot:
        return await asyncio.to_thread(self.store.snapshot)

    async def get(self, scope: str = GLOBAL) -> ScopeView:
        snapshot = await self._adopted()
        self._known(snapshot, scope)
        document = snapshot.scope(scope)
        if scope == GLOBAL:
            config = validate(document)
        else:
            config = effective(snapshot.scope(GLOBAL), document)
        switch = None if scope == GLOBAL else await self.switch(scope)
        return ScopeView(scope, document, config, snapshot.version, await self.applied(), switch)

    async def switch(self, instance_id: str) -> AlertSwitch | None:
        """The instance's alert switch (its last eaoff/eaon), apart from its configured
        `trading_state`; None without one or without Redis."""
        if self.registry is None:
            return None
        try:
            raw = await self.registry.redis.get(self.registry.keys.switch(instance_id))
        except (RedisError, OSError):
            return None
        return self.registry.switch_of(instance_id, raw)

    async def set(
        self, scope: str, values: Mapping[str, Any], actor: str, note: str = ""
    ) -> Applied:
        """Set field paths (`max_open_orders`, `symbols.XAUUSD.lot_size`) in one version."""
        return await self.change(scope, values, (), actor, note)

    async def unset(self, scope: str, paths: Sequence[str], actor: str, note: str = "") -> Applied:
        """Remove field paths from a scope, so they are inherited again."""
        return await self.change(scope, {}, paths, actor, note)

    async def change(
        self,
        scope: str,
        values: Mapping[str, Any],
        paths: Sequence[str],
        actor: str,
        note: str = "",
    ) -> Applied:
        """Set `values` and unset `paths` of one scope as one new version."""
        if not values and not paths:
            raise ConfigRefused("set", "give at least one field to set or unset", scope)
        for path, value in values.items():
            if not storable(value):
                raise ConfigRefused(path, "a whole number must fit in 64 bits", scope)

        def edit(document: Document) -> Document:
            for path, value in values.items():
                document = assign(document, path, value)
            for path in paths:
                document = remove(document, path)
            return document

        record: Document = {}
        if values:
            record["set"] = dict(values)
        if paths:
            record["unset"] = list(paths)
        touches_state = "trading_state" in values or "trading_state" in paths
        return await self._change(scope, edit, record, touches_state, actor, note)

    async def record(self, scope: str, event: Document, actor: str, note: str = "") -> Applied:
        """Record an event that changes no field (a loss limit hit or lifted) as a version of
        the scope: its history row has `change` = `event` and equal `before` and `after`."""
        if not event:
            raise ConfigRefused("record", "give the event to record", scope)
        return await self._change(scope, lambda document: document, event, False, actor, note)

    async def _change(
        self,
        scope: str,
        change: Callable[[Document], Document],
        record: Document,
        touches_state: bool,
        actor: str,
        note: str,
    ) -> Applied:
        for _ in range(ATTEMPTS):
            snapshot = await self._adopted()
            self._known(snapshot, scope)
            document = change(snapshot.scope(scope))
            document = canonical(document, self._check(snapshot, scope, document))
            try:
                version = await asyncio.to_thread(
                    self.store.commit, snapshot.version, {scope: (record, document)}, actor, note
                )
            except VersionConflict:
                continue
            scopes = {**snapshot.scopes, scope: document}
            updated = ConfigSnapshot(version, scopes, snapshot.instances)
            published, error = await self._publish(updated, {scope} if touches_state else set())
            return Applied(version, scope, document, published, error)
        raise VersionConflict(f"gave up after {ATTEMPTS} concurrent changes")

    def _check(self, snapshot: ConfigSnapshot, scope: str, document: Document) -> TradingConfig:
        """The scope's validated configuration; a global change must also leave every
        instance's configuration valid."""
        if scope != GLOBAL:
            return _refuse_in(scope, partial(effective, snapshot.scope(GLOBAL), document))
        config = _refuse_in(scope, partial(validate, document))
        for instance_id in snapshot.instances:
            own = snapshot.scope(instance_id)
            _refuse_in(instance_id, partial(effective, document, own))
        return config

    async def publish(self) -> Applied:
        """Mirror the store's current version into Redis (e.g. after Redis lost its data)."""
        snapshot = await self._adopted()
        published, error = await self._publish(snapshot, ())
        return Applied(snapshot.version, GLOBAL, snapshot.scope(GLOBAL), published, error)

    async def _publish(
        self, snapshot: ConfigSnapshot, states_from: Collection[str]
    ) -> tuple[bool, str | None]:
        if self.registry is None:
            return False, "no Redis given"
        try:
            await mirror.publish(self.registry, snapshot, states_from)
        except (RedisError, OSError) as error:
            return False, f"Redis: {error}"
        return True, None

    async def _adopted(self) -> ConfigSnapshot:
        """The store's snapshot, after importing instances that exist only in Redis."""
        snapshot = await self.snapshot()
        if self.registry is None:
            return snapshot
        try:
            running = await self.registry.all()
        except (RedisError, OSError):
            return snapshot
        new = {i: s for i, s in running.items() if i not in snapshot.instances}
        if not new:
            return snapshot
        return await self._adopt(snapshot, new)

    async def _adopt(
        self, snapshot: ConfigSnapshot, new: dict[str, InstanceSpec]
    ) -> ConfigSnapshot:
        adopted = {i: mirror.adoption(s, snapshot.scope(GLOBAL)) for i, s in new.items()}
        changes = {i: ({"adopt": doc}, doc) for i, (_, doc) in adopted.items() if doc}
        definitions = {i: definition for i, (definition, _) in adopted.items()}
        with suppress(VersionConflict):  # someone else adopted or changed: read again
            await asyncio.to_thread(
                self.store.commit,
                snapshot.version,
                changes,
                "adopt",
                "instance found in Redis",
                definitions,
            )
        return await self.snapshot()

    @staticmethod
    def _known(snapshot: ConfigSnapshot, scope: str) -> None:
        if scope != GLOBAL and scope not in snapshot.instances:
            raise ConfigRefused("instance", f"unknown instance {scope}", scope)

    async def history(self, scope: str | None = None, limit: int = 50) -> list[Change]:
        return await asyncio.to_thread(self.store.history, scope, limit)

    async def instances(self) -> dict[str, InstanceSpec]:
        """Every instance with the configuration the store gives it now."""
        return mirror.specs_of(await self._adopted())

    async def applied(self) -> dict[str, int]:
        """Instance → configuration version it reported applying ({} without Redis)."""
        if self.registry is None:
            return {}
        try:
            raw = await self.registry.redis.hgetall(self.registry.keys.config_applied)
        except (RedisError, OSError):
            return {}
        return {text(k): int(v) for k, v in raw.items()}

    async def backup(self) -> int:
        """Copy Redis's configuration keys into DuckDB; returns the backup id."""
        registry = self._redis()
        version, entries = await mirror.backup_entries(registry)
        return await asyncio.to_thread(self.store.save_backup, version, entries)

    async def restore(self, backup_id: int | None = None, force: bool = False) -> tuple[int, int]:
        """Write a backup (the newest by default) into Redis; returns (backup id, entries written).

        Without a backup the store's current version is published instead (backup id 0).
        Refuses a Redis that already holds configuration unless `force`.
        """
        registry = self._redis()
        if not force and not await mirror.is_empty(registry):
            raise ConfigRefused("redis", "already holds a configuration (use --force)")
        backup = await asyncio.to_thread(self.store.backup, backup_id)
        if backup is None:
            if backup_id is not None:
                raise ConfigRefused("backup", f"no backup {backup_id}")
            snapshot = await self.snapshot()
            await mirror.publish(registry, snapshot, (GLOBAL, *snapshot.instances))
            return 0, len(snapshot.instances)
        return backup.backup_id, await mirror.restore(registry, backup)

    def _redis(self) -> InstanceRegistry:
        if self.registry is None:
            raise ConfigRefused("redis", "this needs Redis: give --redis URL")
        return self.registry


def _refuse_in(scope: str, check: Callable[[], TradingConfig]) -> TradingConfig:
    try:
        config = check()
    except ConfigRefused as refused:
        where = "" if scope == GLOBAL else f" (instance {scope})"
        raise ConfigRefused(refused.field, f"{refused.rule}{where}", scope) from refused
    return config
