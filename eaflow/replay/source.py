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


def as_recorded(stream: str, entries: list[Entry]) -> tuple[str, list[Entry]]:
    """A debug stream's entries under the stream and ids they were copied from (their
    `replayed_from` field), so they replay as the originals did, at the ticks of their
    moment; any other stream's as they are."""
    if not stream.startswith("debug:") or not entries:
        return stream, entries
    origins: set[str] = set()
    originals: list[Entry] = []
    for entry_id, fields in entries:
        origin, _, original_id = text(fields.get(b"replayed_from", b"")).partition(" ")
        if not original_id:
            raise ValueError(
                f"STREAM: entry {entry_id} of {stream!r} has no replayed_from field; only "
                "copies made by eaflow replay --into can be re-run"
            )
        origins.add(origin)
        originals.append((original_id, fields))
    if len(origins) > 1:
        raise ValueError(
            f"STREAM: {stream!r} holds copies of {', '.join(sorted(origins))}; give a "
            "--from/--to range copied from one of them"
        )
    return origins.pop(), originals


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
