"""One reader per gateway process for every open console, fanning the overview out.

Each round (at most one a `period`) reads every instance's spec (one GET when none changed),
its manager's last report (one HGETALL) and its account snapshot (one MGET), builds the rows
and offers each console only the rows that changed since the last round; a console that
has just opened gets every row first. However many consoles watch, the overview costs the
same three Redis reads a round. The reader starts with the first console and ends after
the last one leaves; a failed round is logged and retried, never silent. A console that
does not keep up is dropped like a slow chart stream (its EventSource reconnects).
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from eaflow.gateway.console.overview import parse_report, parse_state, row
from eaflow.gateway.livehub import KEEPALIVE, KEEPALIVE_LINE, LiveRefused, Subscriber, event
from model.keys import Keys
from processors.registry import InstanceRegistry
from streams.reader import text
from streams.timer import cancel

log = structlog.get_logger(__name__)

PERIOD = 1.0  # seconds between two rounds: heartbeats come every 5 s, snapshots about 1 s
RETRY_MAX = 5.0


class OverviewHub:
    """Example: ``sub = hub.subscribe("10.0.0.7")``; ``await sub.next()`` until None;
    ``hub.unsubscribe(sub)``. `rows` holds the last round's rows, by instance."""

    def __init__(
        self,
        registry: InstanceRegistry,
        keys: Keys,
        *,
        max_streams: int,
        per_client: int,
        period: float = PERIOD,
        keepalive: float = KEEPALIVE,
    ) -> None:
        self.registry = registry
        self.redis = registry.redis
        self.keys = keys
        self.max_streams = max_streams
        self.per_client = per_client
        self.period = period
        self.keepalive = keepalive
        self.subscribers: set[Subscriber] = set()
        self.fresh: set[Subscriber] = set()  # not sent every row yet
        self.rows: dict[str, dict[str, Any]] = {}
        self.rounds = 0
        self._task: asyncio.Task[None] | None = None

    def subscribe(self, client: str) -> Subscriber:
        """A new console stream, or LiveRefused past the process's or the client's limit."""
        if len(self.subscribers) >= self.max_streams:
            raise LiveRefused(
                503,
                "console_capacity",
                f"console: this gateway already serves its maximum of {self.max_streams} "
                "console streams; retry later",
            )
        if sum(s.client == client for s in self.subscribers) >= self.per_client:
            raise LiveRefused(
                429,
                "console_per_client",
                f"console: at most {self.per_client} console streams per client address; "
                "close one first",
            )
        sub = Subscriber("", "", client)
        sub.offered = asyncio.get_running_loop().time()
        self.subscribers.add(sub)
        self.fresh.add(sub)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="gateway-console")
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)
        self.fresh.discard(sub)
        sub.end()

    async def close(self) -> None:
        for sub in list(self.subscribers):
            self.unsubscribe(sub)
        await cancel(self._task)
        self._task = None

    async def _run(self) -> None:
        failures = 0
        try:
            while self.subscribers:
                started = asyncio.get_running_loop().time()
                try:
                    await self.round()
                    failures = 0
                    wait = self.period - (asyncio.get_running_loop().time() - started)
                except Exception as exc:  # Redis away, or a bug: logged, retried, never silent
                    failures += 1
                    wait = min(0.1 * 2**failures, RETRY_MAX)
                    log.warning("console.round_failed", error=str(exc), retry_in=wait)
                await asyncio.sleep(max(wait, 0.0))
        finally:
            self.rows = {}

    async def read(self) -> dict[str, dict[str, Any]]:
        """Every instance's row, read now (three Redis calls whatever the count)."""
        specs = await self.registry.all()
        names = sorted(specs)
        reports: Any = await self.redis.hgetall(self.keys.instances_status)
        reports = {text(k): v for k, v in reports.items()}
        states: list[Any] = []
        if names:
            states = await self.redis.mget([self.keys.state(i) for i in names])
        return {
            i: row(specs[i], parse_report(reports.get(i)), parse_state(raw))
            for i, raw in zip(names, states, strict=True)
        }

    async def round(self) -> None:
        rows = await self.read()
        changed = [r for i, r in rows.items() if self.rows.get(i) != r]
        removed = [i for i in self.rows if i not in rows]
        self.rows = rows
        self.rounds += 1
        update = event("rows", {"rows": changed, "removed": removed}) if changed or removed else b""
        everything = event("snapshot", {"rows": list(rows.values())})
        now = asyncio.get_running_loop().time()
        for sub in list(self.subscribers):
            chunk = everything if sub in self.fresh else update
            self.fresh.discard(sub)
            if not chunk and now - sub.offered >= self.keepalive:
                chunk = KEEPALIVE_LINE
            if chunk and not sub.offer(chunk, now):
                self.unsubscribe(sub)
                log.info("console.dropped", client=sub.client, why="slow")
