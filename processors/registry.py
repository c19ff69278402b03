"""The instance registry in Redis: which accounts exist, their config and broker symbols.

The configuration store (DuckDB) mirrors into these keys; processors only read Redis.
"""

from __future__ import annotations

import orjson
import structlog
from pydantic import ValidationError
from redis.asyncio import Redis

from brokers.mt5.records import SymbolInfo
from model import InstanceSpec, TradingState, new_id, refusal_of
from model.config import AlertSwitch
from model.keys import Keys
from streams.reader import text
from streams.types import Command

log = structlog.get_logger(__name__)

UNREADABLE_SWITCH = AlertSwitch(
    state=TradingState.HALTED, source="?", signal_id="?", order_id="?", at=0
)
"""What an alert switch that does not validate counts as: halted."""


class InstanceRegistry:
    """Reads and writes the registry's keys (`model.keys.Keys`): `instances` (id → spec),
    `symbols:{id}` (name → SymbolInfo), `trading_state` (the global kill switch),
    `instances:rev` and `symbols:@rev` (a new token on every write, so readers skip unchanged
    data), `config:version` and `config:applied`, and the alerts' switches `switch:{id}`."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self.keys = Keys(prefix)
        self.errors: dict[str, str] = {}  # instance → why its spec in Redis was not applied
        self._specs: dict[str, InstanceSpec] = {}
        self._rev: bytes | str | None = None
        self._refused_state: bytes | str | None = None
        self._refused_switches: dict[str, bytes | str] = {}  # instance → its refused value

    async def put(self, *specs: InstanceSpec) -> None:
        if specs:
            pipe = self.redis.pipeline(transaction=True)
            for command in self.writes(*specs):
                pipe.execute_command(*command)
            await pipe.execute()

    def writes(self, *specs: InstanceSpec) -> list[Command]:
        """The commands that publish `specs`, for a caller committing them with other writes
        in one transaction."""
        mapping = [part for s in specs for part in (s.instance_id, s.model_dump_json())]
        return [("HSET", self.keys.instances, *mapping), ("SET", self.keys.instances_rev, new_id())]

    async def all(self) -> dict[str, InstanceSpec]:
        """Every instance's spec; one GET when nothing changed since the last call.

        A spec that fails validation is logged and the last valid one stays in force.
        """
        rev = await self.redis.get(self.keys.instances_rev)
        if rev is not None and rev == self._rev:
            return dict(self._specs)
        raw = await self.redis.hgetall(self.keys.instances)
        specs: dict[str, InstanceSpec] = {}
        for key, value in raw.items():
            instance = text(key, errors="backslashreplace")
            try:
                spec = InstanceSpec.model_validate_json(value)
                field, rule = "instance_id", f"must be its key {instance!r}"
            except ValidationError as error:
                spec = None
                field, rule = refusal_of(error)
            if spec is not None and spec.instance_id == instance:
                specs[instance] = spec
                self.errors.pop(instance, None)
                continue
            self.errors[instance] = f"{field}: {rule}"
            log.error("instance_spec_refused", instance=instance, field=field, rule=rule)
            if instance in self._specs:
                specs[instance] = self._specs[instance]
        self._specs, self._rev = specs, rev
        return dict(specs)

    async def get(self, instance_id: str) -> InstanceSpec | None:
        raw = await self.redis.hget(self.keys.instances, instance_id)
        return None if raw is None else InstanceSpec.model_validate_json(raw)

    async def version(self) -> int:
        """The configuration version last published into Redis (0: none yet)."""
        raw = await self.redis.get(self.keys.config_version)
        return int(raw) if raw else 0

    async def global_state(self) -> TradingState:
        """The kill switch; one that cannot be read halts trading (logged once per value)."""
        raw = await self.redis.get(self.keys.trading_state)
        if raw is None:
            return TradingState.ACTIVE
        value = text(raw, errors="backslashreplace")
        try:
            return TradingState(value)
        except ValueError:
            if raw != self._refused_state:
                self._refused_state = raw
                rule = f"must be one of {', '.join(s.value for s in TradingState)}: halted"
                log.error(
                    "trading_state_refused", key=self.keys.trading_state, value=value, rule=rule
                )
            return TradingState.HALTED

    async def set_global_state(self, state: TradingState) -> None:
        await self.redis.set(self.keys.trading_state, state.value)

    def switch_writes(self, instance_id: str, switch: AlertSwitch) -> list[Command]:
        """The commands that record an alert's eaoff/eaon (the router commits them with its
        result); the operator's `trading_state` in the instance's spec is left alone."""
        return [("SET", self.keys.switch(instance_id), switch.model_dump_json())]

    async def set_switch(self, instance_id: str, switch: AlertSwitch) -> None:
        await self.redis.set(self.keys.switch(instance_id), switch.model_dump_json())

    def switch_of(self, instance_id: str, raw: bytes | str | None) -> AlertSwitch | None:
        """The alert switch read from `switch:{id}` (None: no alert switched it). One that
        does not validate halts the instance (fail closed) and is logged once per value."""
        if raw is None:
            return None
        try:
            return AlertSwitch.model_validate_json(raw)
        except ValidationError as error:
            if self._refused_switches.get(instance_id) != raw:
                self._refused_switches[instance_id] = raw
                field, rule = refusal_of(error)
                log.error(
                    "alert_switch_refused",
                    key=self.keys.switch(instance_id),
                    field=field,
                    rule=f"{rule}: halted",
                )
            return UNREADABLE_SWITCH

    async def switches(self, instance_ids: list[str]) -> dict[str, AlertSwitch]:
        """The alert switches of `instance_ids` that some alert set, in one MGET."""
        if not instance_ids:
            return {}
        raw = await self.redis.mget([self.keys.switch(i) for i in instance_ids])
        found = {i: self.switch_of(i, r) for i, r in zip(instance_ids, raw, strict=True)}
        return {i: s for i, s in found.items() if s is not None}

    async def publish_symbols(self, instance_id: str, infos: list[SymbolInfo]) -> None:
        """The executor publishes its broker's symbol specs for the router to validate with."""
        if infos:
            pipe = self.redis.pipeline(transaction=True)
            pipe.hset(
                self.keys.symbols(instance_id),
                mapping={i.name: orjson.dumps(i._asdict()) for i in infos},
            )
            pipe.set(self.keys.symbols_rev, new_id())
            await pipe.execute()

    async def symbols(self, instance_id: str) -> dict[str, SymbolInfo]:
        raw = await self.redis.hgetall(self.keys.symbols(instance_id))
        return {text(k): SymbolInfo(**orjson.loads(v)) for k, v in raw.items()}

    async def all_symbols(self, instance_ids: list[str]) -> dict[str, dict[str, SymbolInfo]]:
        """Every instance's symbols in one pipelined round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for instance_id in instance_ids:
            pipe.hgetall(self.keys.symbols(instance_id))
        return {
            i: {text(k): SymbolInfo(**orjson.loads(v)) for k, v in raw.items()}
            for i, raw in zip(instance_ids, await pipe.execute(), strict=True)
        }
