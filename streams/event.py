"""`Event`: one decoded stream entry as a handler sees it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic

from streams.topic import Topic
from streams.types import T


@dataclass(frozen=True, slots=True)
class Event(Generic[T]):
    """The decoded `value` of entry `id` of stream `stream`, with its original bytes.

    `deliveries` counts this delivery too: 1 the first time, more after failures or claims.
    """

    value: T
    id: str
    stream: str
    topic: Topic[T]
    raw: bytes
    deliveries: int = 1
