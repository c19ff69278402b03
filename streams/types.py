"""Protocols and aliases of the runtime, apart from their implementations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

Arg = str | bytes | int | float
"""One argument of a Redis command."""

Command = tuple[Arg, ...]
"""A Redis command and its arguments, e.g. ``("HSET", "ea:orec:a", "o1", "sent")``."""

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
