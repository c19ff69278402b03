"""Re-run recorded signals (router → executor) or orders (executor) in a sandbox.

Each entry goes through the same handlers the live agents run, one at a time in stream
order, with the sandbox's latest tick set to the live tick of the entry's moment. What the
handlers would have committed is committed in the sandbox by the runtime's commit script,
and the results it wrote are read back. The 500 ms refreshes of the live agents follow the
entries' own clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from eaflow.replay.sandbox import Sandbox
from eaflow.replay.source import Entry
from model import Order, Result
from processors.executor.agent import Executor
from processors.registry import InstanceRegistry
from processors.router.agent import Router
from streams import Batch, Event, Outbox, Topic
from streams.commit import Committer, Unit
from streams.errors import DecodeError
from streams.reader import text
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
        f"STREAM: a dry run re-runs rtss or orders:{{instance}} (or their dlq:, or a debug: "
        f"copy of one), not {stream!r}; use --into to copy other streams"
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
        self.router.risk.fenced = self._risk_orders  # the sandbox's one router: no standby
        self.executor = Executor(topics, sandbox.registry, sandbox.redis, dict(sandbox.brokers))
        self._refreshed = -REFRESH_MS
        self._symbols: set[str] = set()
        self._committer = Committer(sandbox.redis, "replay")
        self._seen: dict[str, str] = {}  # stream → its last entry read back

    async def start(self, live: InstanceRegistry) -> list[str]:
        instances = await self.sandbox.prepare(live)
        self.executor.brokers = dict(self.sandbox.brokers)
        return instances

    async def _risk_orders(self, out: Outbox) -> bool:
        """A breach's close_all, written as the live lease holder writes it (the sandbox
        has no lease to hold); it is replayed with the next commit that reads the
        instance's orders back."""
        return not await self._committer.commit([Unit("", "", list(out.commands))])

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
        batch = Batch({topic.key: [self._event(topic, entry_id, raw)]})
        await self.executor.handle(batch)
        results, _ = await self._commit(batch.outbox(topic.key))
        return results

    @staticmethod
    def _event(topic: Topic[Any], entry_id: str, raw: bytes) -> Event[Any]:
        return Event(topic.decode(raw), entry_id, topic.key, topic, raw)

    async def _commit(self, out: Outbox) -> tuple[list[Result], list[tuple[str, bytes]]]:
        """Commit the outbox with the runtime's commit script (its guards included); return
        the results and the orders (with their entry ids) it wrote, read back from rtrs
        and orders:{instance}."""
        refused = await self._committer.commit([Unit("", "", list(out.commands))])
        if refused:
            raise RuntimeError(f"commit: {refused[0]}")
        rtrs = self.sandbox.topics.rtrs.key
        orders_prefix = f"{self.sandbox.prefix}orders:"
        results: list[Result] = []
        orders: list[tuple[str, bytes]] = []
        for key in dict.fromkeys(str(c[1]) for c in out.commands if c[0] == "XADD"):
            for entry_id, data in await self._written(key):
                if key == rtrs:
                    results.append(Result.model_validate_json(data))
                elif key.startswith(orders_prefix):
                    orders.append((entry_id, data))
        return results, orders

    async def _written(self, key: str) -> list[tuple[str, bytes]]:
        """The entries of `key` added since the last look (the sandbox has no other writer)."""
        after = self._seen.get(key, "0-0")
        entries: Any = await self.sandbox.redis.xrange(key, min=f"({after}")
        if entries:
            self._seen[key] = text(entries[-1][0])
        return [(text(entry_id), fields[FIELD]) for entry_id, fields in entries]
