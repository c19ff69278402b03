"""Where the Redis transport keeps things: every key under one prefix (default `faust:`).

| key | type | holds |
|---|---|---|
| `{p}topics` | hash | topic → JSON: partitions, compacting, deleting, retention_ms |
| `{p}t:{topic}:{partition}` | stream | the partition's messages; offset o is entry id `0-(o+1)` |
| `{p}k:{topic}:{partition}` | hash | compacted topics: message key → id of its latest entry |
| `{p}g:{group}:members` | sorted set | member id → heartbeat deadline (ms, server time) |
| `{p}g:{group}:epoch` | string | bumped by every join, leave, expiry and new subscription |
| `{p}g:{group}:leader` | string | the member that assigns, a lease renewed by its heartbeats |
| `{p}g:{group}:join` | hash | member id → `epoch|metadata` (Faust's assignor metadata) |
| `{p}g:{group}:assign` | hash | `gen` → epoch assigned; member → assignment; `o:{tp}` → owner |
| `{p}g:{group}:offsets` | hash | `{topic}:{p}` → committed offset (the next one to read) |

A message's fields: `t` timestamp (ms), `k` key and `v` value when not None, `h` headers
(JSON) when there are any.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "faust:"


def id_of(offset: int) -> str:
    """The stream id of `offset`: dense ids start at `0-1` (Redis refuses `0-0`)."""
    return f"0-{offset + 1}"


def offset_of(entry_id: bytes | str) -> int:
    """The offset of a stream id `0-n`."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.partition("-")[2]) - 1


@dataclass(frozen=True)
class Layout:
    """Key names of one prefix. Example: ``Layout("faust:").stream("orders", 3)`` is
    ``"faust:t:orders:3"``."""

    prefix: str = DEFAULT_PREFIX

    @property
    def topics(self) -> str:
        return f"{self.prefix}topics"

    def stream(self, topic: str, partition: int) -> str:
        return f"{self.prefix}t:{topic}:{partition}"

    def latest(self, topic: str, partition: int) -> str:
        return f"{self.prefix}k:{topic}:{partition}"

    def group(self, group: str, what: str) -> str:
        return f"{self.prefix}g:{group}:{what}"


def tp_field(topic: str, partition: int) -> str:
    """A topic partition as a hash field: `{topic}:{partition}`."""
    return f"{topic}:{partition}"
