"""Re-run recorded signals (router → executor) or orders (executor) in a sandbox.

Each entry goes through the same handlers the live agents run, one at a time in stream
order, with the sandbox's latest tick set to the live tick of the entry's moment. What the
handlers would have committed is committed in the sandbox, and the results they wrote are
collected. The 500 ms refreshes of the live agents follow the entries' own clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from eaflow.instances import InstanceRegistry
from eaflow.models import Order, Result
from eaflow.replay.sandbox import Sandbox
from eaflow.replay.source import Entry
from processors.executor.agent import Executor
from processors.router.agent import Router
from streams import Event, Outbox, Topic
from streams.errors import DecodeError
from streams.topic import FIELD

REFRESH_MS = 500


@dataclass
class Replayed:
    """The results one recorded entry produces now, or why it could not be replayed."""

    entry_id: str
    results: list[Result] = field(default_factory=list)
    error: str | None = None


def kind_of(stream: str) -> str:
    """`signals` for rtss (and its DLQ), `orders` for orders:{instance} (and theirs)."""
    name = stream.removeprefix("dlq:")
    if name == "rtss":
        return "signals"
    if name.startswith("orders:") and len(name) > len("orders:"):
        return "orders"
    raise ValueError(
        f"STREAM: a dry run re-runs rtss or orders:{{instance}} (or their dlq:), not {stream!r}; "
        "use --into to copy other streams"
    )


def _ms(entry_id: str) -> int:
    return int(entry_id.partition("-")[0])


class DryRun:
    """Example: ``run = DryRun(sandbox, "rtss")``; ``await run.start(live_registry)``;
    ``replayed = await run.replay(entry)``; ``await sandbox.close()``."""

    def __init__(self, sandbox: Sandbox, stream: str) -> None:
        self.sandbox = sandbox
        self.kind = kind_of(stream)
        topics = sandbox.topics
        self.router = Router(topics, sandbox.registry, sandbox.redis)
        self.executor = Executor(topics, sandbox.registry, sandbox.redis, dict(sandbox.brokers))
        self._refreshed = -REFRESH_MS
        self._symbols: set[str] = set()

    async def start(self, live: InstanceRegistry) -> list[str]:
        instances = await self.sandbox.prepare(live)
        self.executor.brokers = dict(self.sandbox.brokers)
        return instances

    async def replay(self, entry: Entry) -> Replayed:
        entry_id, fields = entry
        raw = fields.get(FIELD)
        if raw is None:
            return Replayed(entry_id, error="d: field is missing")
        await self._refresh(entry_id)
        try:
            value: Any = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            return Replayed(entry_id, error=f"d: is not valid JSON ({error})")
        symbol = value.get("symbol") if isinstance(value, dict) else None
        if isinstance(symbol, str):
            self._symbols.add(symbol)
        await self.sandbox.place_ticks(sorted(self._symbols), entry_id)
        try:
            if self.kind == "signals":
                return Replayed(entry_id, await self._signal(entry_id, raw))
            return Replayed(entry_id, await self._order(entry_id, raw))
        except DecodeError as error:
            return Replayed(entry_id, error=str(error))
        except Exception as error:  # a handler failure is a finding, not a crash
            return Replayed(entry_id, error=f"{type(error).__name__}: {error}")

    async def _refresh(self, entry_id: str) -> None:
        if _ms(entry_id) - self._refreshed < REFRESH_MS:
            return
        self._refreshed = _ms(entry_id)
        await self.sandbox.publish_states()
        await self.router.refresh()
        await self.executor.refresh()

    async def _signal(self, entry_id: str, raw: bytes) -> list[Result]:
        topic = self.sandbox.topics.rtss
        out = Outbox()
        await self.router.handle(self._event(topic, entry_id, raw), out)
        results, orders = await self._commit(out)
        for order_id, order_raw in orders:
            results += await self._order(order_id, order_raw)
        return results

    async def _order(self, entry_id: str, raw: bytes) -> list[Result]:
        order = Order.model_validate_json(raw)
        topic = self.sandbox.topics.orders(order.instance)
        out = Outbox()
        await self.executor.handle(self._event(topic, entry_id, raw), out)
        results, _ = await self._commit(out)
        return results

    @staticmethod
    def _event(topic: Topic[Any], entry_id: str, raw: bytes) -> Event[Any]:
        return Event(topic.decode(raw), entry_id, topic.key, topic, raw)

    async def _commit(self, out: Outbox) -> tuple[list[Result], list[tuple[str, bytes]]]:
        """Run the outbox in one MULTI/EXEC, as the runtime commits it; return the results
        written to rtrs and the orders written to orders:{instance} (with their new ids)."""
        pipe = self.sandbox.redis.pipeline(transaction=True)
        for command in out.commands:
            pipe.execute_command(*command)
        replies = await pipe.execute()
        rtrs = self.sandbox.topics.rtrs.key
        orders_prefix = f"{self.sandbox.prefix}orders:"
        results: list[Result] = []
        orders: list[tuple[str, bytes]] = []
        for command, reply in zip(out.commands, replies, strict=True):
            if command[0] != "XADD":
                continue
            key, data = str(command[1]), command[-1]
            assert isinstance(data, bytes)
            if key == rtrs:
                results.append(Result.model_validate_json(data))
            elif key.startswith(orders_prefix):
                orders.append((reply.decode() if isinstance(reply, bytes) else str(reply), data))
        return results, orders
