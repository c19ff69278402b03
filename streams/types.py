"""Protocols and aliases of the runtime, apart from their implementations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from streams.event import Event
    from streams.outbox import Outbox

T = TypeVar("T")

Arg = str | bytes | int | float
"""One argument of a Redis command."""

Command = tuple[Arg, ...]
"""A Redis command and its arguments, e.g. ``("HSET", "ea:orec:a", "o1", "sent")``."""

Handler = Callable[["Event[T]", "Outbox"], Awaitable[None]]
"""Handles one event; its outputs go to the outbox and commit with its ack."""

BatchHandler = Callable[[list["Event[T]"], "Outbox"], Awaitable[None]]
"""Handles a whole batch; the outputs and every ack commit together or not at all."""

TaskFunction = Callable[[], Awaitable[Any]]
"""A coroutine function run by a timer or as a background task."""


class Codec(Protocol[T]):
    """Turns values into the bytes of an entry's `d` field and back.

    `decode` raises `streams.DecodeError` naming the field and the rule that failed.
    """

    def encode(self, value: T) -> bytes: ...

    def decode(self, data: bytes) -> T: ...


class Service(Protocol):
    """Something the app starts and stops: an agent, a timer, a task."""

    @property
    def name(self) -> str: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
