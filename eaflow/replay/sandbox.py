"""A throwaway key prefix on the live Redis holding a fresh simulator and a copy of the live
instances and configuration, so processors can re-run without touching live streams,
accounts or brokers."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

import orjson

from brokers.factory import broker_for
from brokers.mt5.broker import Mt5Broker
from brokers.sim.server import SimServer
from model import InstanceSpec
from model.keys import SANDBOX_ROOT, Keys
from model.topics import Topics
from processors.manager.state_sync import snapshot
from processors.registry import InstanceRegistry
from streams import App, AppSettings
from streams.clients import async_client, sync_client

DEFAULT_BALANCE = 10_000.0


class Sandbox:
    """Keys under `eaflow-replay:{token}:`; every instance trades on a new simulated account
    (same login, the live snapshot's balance and currency), whatever its live broker is."""

    def __init__(self, redis_url: str, live_prefix: str, token: str | None = None) -> None:
        self.redis_url = redis_url
        self.live_prefix = live_prefix
        self.prefix = f"{SANDBOX_ROOT}{token or secrets.token_hex(4)}:"
        self.redis = async_client(redis_url)
        self.app = App(AppSettings(redis_url=redis_url, prefix=self.prefix, name="eaflow-replay"))
        self.topics = Topics(self.app)
        self.registry = InstanceRegistry(self.redis, self.prefix)
        self.brokers: dict[str, Mt5Broker] = {}
        self._placed: dict[str, str] = {}  # symbol → id of the live tick last copied

    async def prepare(self, live: InstanceRegistry) -> list[str]:
        """Copy the live instances (broker `sim://`, a simulated one's own URL, so its symbol
        names stay), open their accounts, publish symbols and states; returns the ids."""
        specs = await live.all()
        states = await self._live_states(specs)
        server = SimServer(sync_client(self.redis_url), prefix=self.prefix)
        copies: list[InstanceSpec] = []
        for instance, spec in sorted(specs.items()):
            state = states.get(instance, {})
            server.open_account(
                spec.login,
                balance=float(state.get("balance", DEFAULT_BALANCE)),
                currency=str(state.get("currency", "USD")),
                name=instance,
            )
            url = spec.broker if spec.broker.startswith("sim:") else "sim://"  # its names
            copies.append(spec.model_copy(update={"broker": url}))
            broker = broker_for(url, instance, spec.login, self.redis_url, self.prefix)
            await broker.connect()
            self.brokers[instance] = broker
            await self.registry.publish_symbols(instance, list(await broker.symbols()))
        server.redis.close()
        await self.registry.put(*copies)
        await self.registry.set_global_state(await live.global_state())
        await self.publish_states()
        return [spec.instance_id for spec in copies]

    async def _live_states(self, specs: dict[str, InstanceSpec]) -> dict[str, dict[str, Any]]:
        keys = [Keys(self.live_prefix).state(instance) for instance in specs]
        raw = await self.redis.mget(keys) if keys else []
        return {i: orjson.loads(v) for i, v in zip(specs, raw, strict=True) if v}

    async def publish_states(self) -> None:
        """The sandbox accounts' snapshots, as state sync publishes them every 500 ms."""
        pipe = self.redis.pipeline(transaction=False)
        for instance, broker in self.brokers.items():
            state = await snapshot(instance, broker)
            if state is not None:
                pipe.set(self.topics.keys.state(instance), state.model_dump_json())
        await pipe.execute()

    async def place_ticks(self, symbols: Iterable[str], entry_id: str) -> None:
        """Make the latest live tick at `entry_id` (or the oldest kept, when the live stream
        has lost those) the sandbox's latest tick of each symbol."""
        for symbol in symbols:
            live = Keys(self.live_prefix).ticks(symbol)
            found: Any = await self.redis.xrevrange(live, max=entry_id, min="-", count=1)
            if not found:
                found = await self.redis.xrange(live, min="-", max="+", count=1)
            if not found:
                continue
            tick_id, fields = found[0]
            if self._placed.get(symbol) != tick_id:
                await self.redis.xadd(self.topics.keys.ticks(symbol), {b"d": fields[b"d"]})
                self._placed[symbol] = tick_id

    async def close(self) -> int:
        """Disconnect the simulated accounts and delete every sandbox key; returns how many."""
        for broker in self.brokers.values():
            await broker.close()
        deleted = 0
        async for key in self.redis.scan_iter(match=f"{self.prefix}*", count=1000):
            deleted += int(await self.redis.unlink(key))
        await self.app.redis.aclose()
        await self.redis.aclose()
        return deleted


async def clean_sandboxes(redis_url: str) -> dict[str, int]:
    """Delete every kept sandbox (`eaflow replay --keep`): each prefix's number of keys."""
    client = async_client(redis_url)
    removed: dict[str, int] = {}
    try:
        async for key in client.scan_iter(match=f"{SANDBOX_ROOT}*", count=1000):
            name = key.decode() if isinstance(key, bytes) else str(key)
            sandbox = SANDBOX_ROOT + name.removeprefix(SANDBOX_ROOT).split(":", 1)[0] + ":"
            removed[sandbox] = removed.get(sandbox, 0) + int(await client.unlink(key))
    finally:
        await client.aclose()
    return removed
