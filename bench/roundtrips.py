"""Count Redis round trips in-process by patching redis-py's connections (asyncio and sync).

Each `send_packed_command` is one round trip: a command, a pipeline (with or without
MULTI/EXEC) or a script call is packed and sent at once, then its replies are read. A send
is attributed to the `client_name` of its connection (set with `?client_name=...` in the
Redis URL, so every client built from that URL carries it, the simulator's too), and it is
recorded with its commands (parsed from the packed bytes) and the time from the send to the
last reply read on that connection.

`sequential()` counts the round trips that follow each other: the most of them that do not
overlap in time (two sends in flight at once count once), i.e. the waits one after another.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio.connection as async_connection
import redis.connection as sync_connection


@dataclass
class Send:
    """One round trip: who sent it, what, and from when to its last reply."""

    client: str
    commands: list[str]
    start: float
    end: float = 0.0  # 0 until a reply has been read


@dataclass
class Recorder:
    sends: list[Send] = field(default_factory=list)
    open: dict[int, Send] = field(default_factory=dict)  # connection id → its latest send

    def between(self, start: float, end: float, client: str) -> list[Send]:
        """Sends of `client` whose last reply came in [start, end): the round trips that
        finished in the window (a blocking read counts when it returns)."""
        return [s for s in self.sends if s.client == client and start <= s.end < end]


def command_names(packed: bytes | str | Iterable[bytes]) -> list[str]:
    """The command of each RESP array in a packed send (`EVALSHA`, `XADD`, `CLIENT SETNAME`)."""
    data = packed.encode() if isinstance(packed, str) else bytes(packed) if isinstance(
        packed, bytes | bytearray | memoryview
    ) else b"".join(bytes(chunk) for chunk in packed)  # fmt: skip
    names, at = [], 0
    while at < len(data) and data[at : at + 1] == b"*":
        line_end = data.index(b"\r\n", at)
        count = int(data[at + 1 : line_end])
        at = line_end + 2
        args = []
        for _ in range(count):
            line_end = data.index(b"\r\n", at)
            size = int(data[at + 1 : line_end])
            args.append(data[line_end + 2 : line_end + 2 + size])
            at = line_end + 2 + size + 2
        name = args[0].decode(errors="replace").upper() if args else "?"
        if name in ("CLIENT", "XINFO", "SCRIPT", "CONFIG", "XGROUP") and len(args) > 1:
            name += " " + args[1].decode(errors="replace").upper()
        names.append(name)
    return names


@contextmanager
def recording() -> Iterator[Recorder]:
    """Record every round trip of every redis-py connection while the block runs."""
    recorder = Recorder()
    patched: list[tuple[Any, str, Any]] = []

    def patch(cls: Any, asynchronous: bool) -> None:
        send, read = cls.send_packed_command, cls.read_response

        def on_send(conn: Any, command: Any) -> None:
            item = Send(conn.client_name or "", command_names(command), time.perf_counter())
            recorder.sends.append(item)
            recorder.open[id(conn)] = item

        def on_reply(conn: Any) -> None:
            item = recorder.open.get(id(conn))
            if item is not None:
                item.end = time.perf_counter()

        if asynchronous:

            async def async_send(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
                on_send(self, command)
                return await send(self, command, *args, **kwargs)

            async def async_read(self: Any, *args: Any, **kwargs: Any) -> Any:
                try:
                    return await read(self, *args, **kwargs)
                finally:
                    on_reply(self)

            cls.send_packed_command, cls.read_response = async_send, async_read
        else:

            def sync_send(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
                on_send(self, command)
                return send(self, command, *args, **kwargs)

            def sync_read(self: Any, *args: Any, **kwargs: Any) -> Any:
                try:
                    return read(self, *args, **kwargs)
                finally:
                    on_reply(self)

            cls.send_packed_command, cls.read_response = sync_send, sync_read
        patched.append((cls, "send_packed_command", send))
        patched.append((cls, "read_response", read))

    patch(async_connection.AbstractConnection, asynchronous=True)
    patch(sync_connection.AbstractConnection, asynchronous=False)
    try:
        yield recorder
    finally:
        for cls, name, original in reversed(patched):
            setattr(cls, name, original)


def sequential(sends: list[Send]) -> int:
    """The most sends that do not overlap in time (greedy by end): round trips waited for
    one after another. A send still unanswered (end 0) is left out."""
    count, free_from = 0, float("-inf")
    for item in sorted((s for s in sends if s.end), key=lambda s: s.end):
        if item.start >= free_from:
            count += 1
            free_from = item.end
    return count
