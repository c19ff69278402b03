"""The instance registry in Redis: which accounts exist, their config and broker symbols.

The configuration store (DuckDB) mirrors into these keys; processors only read Redis.
"""

from __future__ import annotations

import orjson
from redis.asyncio import Redis

from brokers.mt5.records import SymbolInfo
from eaflow.models import InstanceSpec, TradingState


class InstanceRegistry:
    """Keys: `{prefix}instances` (hash id → spec), `{prefix}symbols:{id}` (hash → SymbolInfo),
    `{prefix}trading_state` (the global kill switch)."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    @property
    def key(self) -> str:
        return f"{self.prefix}instances"

    async def put(self, *specs: InstanceSpec) -> None:
        if specs:
            await self.redis.hset(
                self.key, mapping={s.instance_id: s.model_dump_json() for s in specs}
            )

    async def all(self) -> dict[str, InstanceSpec]:
        raw: dict[bytes, bytes] = await self.redis.hgetall(self.key)
        specs = (InstanceSpec.model_validate_json(v) for v in raw.values())
        return {s.instance_id: s for s in specs}

    async def get(self, instance_id: str) -> InstanceSpec | None:
        raw = await self.redis.hget(self.key, instance_id)
        return None if raw is None else InstanceSpec.model_validate_json(raw)

    async def global_state(self) -> TradingState:
        raw = await self.redis.get(f"{self.prefix}trading_state")
        return TradingState(raw.decode()) if raw else TradingState.ACTIVE

    async def set_global_state(self, state: TradingState) -> None:
        await self.redis.set(f"{self.prefix}trading_state", state.value)

    async def set_instance_state(self, instance_id: str, state: TradingState) -> None:
        spec = await self.get(instance_id)
        if spec is None:
            raise KeyError(instance_id)
        config = spec.config.model_copy(update={"trading_state": state})
        await self.put(spec.model_copy(update={"config": config}))

    async def publish_symbols(self, instance_id: str, infos: list[SymbolInfo]) -> None:
        """The executor publishes its broker's symbol specs for the router to validate with."""
        if infos:
            await self.redis.hset(
                f"{self.prefix}symbols:{instance_id}",
                mapping={i.name: orjson.dumps(i._asdict()) for i in infos},
            )

    async def symbols(self, instance_id: str) -> dict[str, SymbolInfo]:
        raw: dict[bytes, bytes] = await self.redis.hgetall(f"{self.prefix}symbols:{instance_id}")
        return {k.decode(): SymbolInfo(**orjson.loads(v)) for k, v in raw.items()}
