"""Open-loop senders: webhook POSTs on keep-alive HTTP/1.1 connections, or XADDs straight
into a stream, fed on a fixed schedule.

Latency is counted from when a signal was *due*, not from when a connection was free to
send it, so a slow server cannot hide its queue (no coordinated omission). httpx costs
more CPU per request than the gateway under test; this client writes the request bytes
itself and reads only the status line and the body length.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError


@dataclass
class Sent:
    """One signal: when it was due, when its POST was answered, and with which status."""

    due: float
    answered: float = 0.0
    status: int = 0


@dataclass
class Load:
    """What the sender did: every signal by order_id, and how many it could not send."""

    sent: dict[str, Sent] = field(default_factory=dict)
    errors: int = 0
    answered: int = 0

    @property
    def waiting(self) -> int:
        """Signals due but not answered by the gateway yet (queued in the sender or posted)."""
        return len(self.sent) - self.answered


class Connection:
    """One keep-alive connection posting JSON to `path`."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self.host, self.port, self.path = host, port, path
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> int:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(status_line.split()[1])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def send_paced(
    url_host: str,
    port: int,
    bodies: Iterable[tuple[str, dict[str, object]]],
    rate: float,
    connections: int = 32,
    in_flight: Callable[[], int] | None = None,
    window: int = 0,
    freed: asyncio.Event | None = None,
    until: float | None = None,
    load: Load | None = None,
    stop: asyncio.Event | None = None,
) -> Load:
    """POST `bodies` (order_id, JSON) to /webhook/tradingview at `rate` per second.

    The signals of one instance share one connection, so they arrive in the order sent,
    as the alerts of one strategy do.

    With `window` > 0 the rate is as fast as possible instead, holding at most `window`
    signals whose result has not arrived (`in_flight()`, re-checked whenever the collector
    sets `freed`): the sustained maximum. Sending stops at `until` (perf_counter) or when
    `stop` is set.
    """
    load = Load() if load is None else load
    queues: list[asyncio.Queue[tuple[str, bytes] | None]] = [
        asyncio.Queue() for _ in range(connections)
    ]

    async def worker(queue: asyncio.Queue[tuple[str, bytes] | None]) -> None:
        conn = Connection(url_host, port, "/webhook/tradingview")
        try:
            while (item := await queue.get()) is not None:
                order_id, body = item
                if stop is not None and stop.is_set():  # overloaded: drop what is queued
                    del load.sent[order_id]
                    continue
                try:
                    status = await conn.post(body)
                except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                    load.errors += 1
                    await conn.close()
                    conn = Connection(url_host, port, "/webhook/tradingview")
                    continue
                sent = load.sent[order_id]
                sent.answered, sent.status = time.perf_counter(), status
                load.answered += 1
        finally:
            await conn.close()

    workers = [asyncio.create_task(worker(queue)) for queue in queues]
    start = time.perf_counter()
    for n, (order_id, body) in enumerate(bodies):
        if (until is not None and time.perf_counter() >= until) or (stop and stop.is_set()):
            break
        if window and in_flight is not None and freed is not None:
            while in_flight() >= window:
                freed.clear()
                await freed.wait()
            due = time.perf_counter()
        else:
            due = start + n / rate
            pause = due - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
        load.sent[order_id] = Sent(due)
        lane = hash(str(body.get("instances"))) % connections  # one instance, one connection
        queues[lane].put_nowait((order_id, orjson.dumps(body)))
    for queue in queues:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return load


async def xadd_paced(
    client: Redis,
    stream: str,
    bodies: Iterable[tuple[str, bytes]],
    rate: float,
    load: Load | None = None,
    stop: asyncio.Event | None = None,
) -> Load:
    """XADD each (order_id, JSON) to `stream` when it is due (`rate` per second, open
    loop), one XADD per signal as a strategy's alerts come; `answered` is when Redis
    acknowledged it. A slow XADD delays the next send, never its due time. Stops early
    when `stop` is set."""
    load = Load() if load is None else load
    start = time.perf_counter()
    for n, (order_id, body) in enumerate(bodies):
        if stop is not None and stop.is_set():
            break
        due = start + n / rate
        pause = due - time.perf_counter()
        if pause > 0:
            await asyncio.sleep(pause)
        sent = load.sent[order_id] = Sent(due)
        fields: Any = {"d": body}
        try:
            await client.xadd(stream, fields)
        except (OSError, RedisError):
            load.errors += 1
            continue
        sent.answered, sent.status = time.perf_counter(), 200
        load.answered += 1
    return load
