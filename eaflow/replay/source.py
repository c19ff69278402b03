"""Reading a range of a stream, and copying it into a debug stream."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from redis.asyncio import Redis

from streams.reader import text

Entry = tuple[str, dict[bytes, bytes]]
PAGE = 1000


async def read_range(
    redis: Redis,
    key: str,
    start: str,
    end: str,
    limit: int,
    on_page: Callable[[int], None] | None = None,
) -> list[Entry]:
    """Entries of `key` from `start` to `end` (both included), page by page.

    Raises ValueError when the range holds more than `limit` entries: narrow it.
    """
    entries: list[Entry] = []
    lower = start
    while True:
        page: Any = await redis.xrange(key, min=lower, max=end, count=PAGE)
        entries.extend((text(entry_id), fields) for entry_id, fields in page)
        if on_page is not None:
            on_page(len(page))
        if len(entries) > limit:
            raise ValueError(f"--limit: the range holds more than {limit} entries; narrow it")
        if len(page) < PAGE:
            return entries
        lower = f"({entries[-1][0]}"


def debug_stream(name: str, source: str) -> str:
    """The `--into` stream name, checked: only `debug:...` streams, never the source."""
    if not name.startswith("debug:") or len(name) <= len("debug:"):
        raise ValueError(
            f"--into: {name!r} must name a debug stream (debug:...), so a replay never "
            "writes into a live stream"
        )
    if name == source:
        raise ValueError(f"--into: {name!r} is the stream being replayed")
    return name


async def copy_range(
    redis: Redis,
    entries: Sequence[Entry],
    target: str,
    origin: str,
    on_copied: Callable[[int], None] | None = None,
) -> list[str]:
    """Append `entries` to `target` with their fields, plus `replayed_from` = `origin` and
    the original id; returns the new ids. Consumers read the `d` field as from the source."""
    ids: list[str] = []
    for first in range(0, len(entries), PAGE):
        pipe = redis.pipeline(transaction=False)
        chunk = entries[first : first + PAGE]
        for entry_id, fields in chunk:
            copied: dict[Any, Any] = {**fields, b"replayed_from": f"{origin} {entry_id}".encode()}
            pipe.xadd(target, copied)
        ids.extend(text(new_id) for new_id in await pipe.execute())
        if on_copied is not None:
            on_copied(len(chunk))
    return ids
