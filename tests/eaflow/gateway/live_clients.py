"""Many `GET /api/live` clients at once, each from its own loopback address if asked.

A raw HTTP/1.1 client on asyncio streams (hundreds fit in one event loop, where a thread
per httpx stream would not): it opens the stream, reads the status and headers, then keeps
reading events, counting them by name, until closed. The loopback network is 127.0.0.0/8,
so `local` addresses such as 127.0.0.2 are real, distinct client addresses to the gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import dataclass, field


def loopback(n: int) -> str:
    """The n-th extra loopback address (0 → 127.0.1.1), never 127.0.0.1 itself."""
    return f"127.0.{1 + n // 250}.{n % 250 + 1}"


@dataclass
class LiveClient:
    """One live stream: its status, its events by name and the data of the last of each."""

    host: str
    port: int
    query: str
    local: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    status: int = 0
    body: bytes = b""  # of a refusal
    events: Counter[str] = field(default_factory=Counter)
    last: dict[str, bytes] = field(default_factory=dict)
    lines: int = 0  # every line read, comments and `retry:` included
    ended: bool = False  # the server closed the stream
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    counting: bool = False  # only count events (a benchmark's many clients): no `last`
    _writer: asyncio.StreamWriter | None = None
    _reading: asyncio.Task[None] | None = None

    async def open(self) -> int:
        """Connect, send the request, read the answer's head; a 200 keeps being read in
        the background. Returns the status."""
        reader, writer = await asyncio.open_connection(
            self.host, self.port, local_addr=(self.local, 0) if self.local else None
        )
        self._writer = writer
        extra = "".join(f"{k}: {v}\r\n" for k, v in self.headers)
        writer.write(
            f"GET /api/live?{self.query} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Accept: text/event-stream\r\n{extra}\r\n".encode()
        )
        status_line = await reader.readline()
        self.status = int(status_line.split()[1])
        length = None
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if self.status != 200:
            self.body = await reader.readexactly(length) if length else b""
            await self.close()
            return self.status
        self._reading = asyncio.create_task(self._read(reader))
        return self.status

    async def _read(self, reader: asyncio.StreamReader) -> None:
        if self.counting:
            await self._count(reader)
            return
        name = ""
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, ValueError):
            while line := await reader.readline():
                self.lines += 1
                if line.startswith(b"event: "):
                    name = line[7:].strip().decode()
                elif line.startswith(b"data: ") and name:
                    self.events[name] += 1
                    self.last[name] = line[6:].strip()
                self.changed.set()
        self.ended = True
        self.changed.set()

    async def _count(self, reader: asyncio.StreamReader) -> None:
        """Events by name from whole reads, at a fraction of the CPU of parsing lines."""
        names = [(n, b"event: " + n.encode() + b"\n") for n in ("tick", "result", "state")]
        tail = b""
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                joined = tail + data  # a marker may straddle two reads
                for name, marker in names:
                    self.events[name] += joined.count(marker) - tail.count(marker)
                tail = joined[-16:]
        self.ended = True
        self.changed.set()

    async def close(self) -> None:
        if self._reading is not None:
            self._reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reading
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()


async def open_many(
    host: str,
    port: int,
    query: str,
    count: int,
    per_address: int,
    headers: tuple[tuple[str, str], ...] = (),
    first: int = 0,
    counting: bool = False,
) -> list[LiveClient]:
    """`count` live streams, `per_address` from each loopback address from `loopback(first)`
    on, opened together."""
    clients = [
        LiveClient(
            host, port, query, loopback(first + n // per_address), headers, counting=counting
        )
        for n in range(count)
    ]
    await asyncio.gather(*(c.open() for c in clients))
    return clients


async def close_all(clients: list[LiveClient]) -> None:
    await asyncio.gather(*(c.close() for c in clients))
