"""`Outbox`: what a handler writes, committed in the same transaction as its ack."""

from __future__ import annotations

from streams.topic import Topic
from streams.types import Arg, Command, T


class Outbox:
    """Collects a handler's Redis writes; they happen only if the handler succeeds.

    Example::

        out.send(orders, order)                     # XADD ea:orders:a * d <order json>
        out.call("HSET", "ea:orec:a", "o1", "sent")
        out.once("ea:orec:a", "o2", "rejected")     # the rest only if o2 had no record
        out.send(results, result)
    """

    __slots__ = ("commands",)

    def __init__(self) -> None:
        self.commands: list[Command] = []

    def send(self, topic: Topic[T], value: T) -> None:
        """Append `value` to `topic` when the event commits."""
        self.commands.append(topic.xadd(topic.encode(value)))

    def call(self, command: str, *args: Arg) -> None:
        """Run any Redis command (a write, usually) when the event commits."""
        if not command or not isinstance(command, str):
            raise ValueError(f"command: must be a non-empty command name, got {command!r}")
        for position, arg in enumerate(args, 1):
            if isinstance(arg, bool) or not isinstance(arg, str | bytes | int | float):
                raise TypeError(
                    f"args[{position}]: must be str, bytes, int or float, got {type(arg).__name__}"
                )
        self.commands.append((command, *args))

    def once(self, key: str, field: str, value: str, *replacing: str) -> None:
        """Set `field` of hash `key` to `value` unless it holds a value other than
        `replacing`; if it does, the commands after this one do not run (the event is still
        acked). Guards a result that must be written once, however many times its event,
        or a copy of it, is handled, or whoever else finishes its record first."""
        self.commands.append(("ONCE", key, field, value, *replacing))

    def expect(self, key: str, field: str, value: str) -> None:
        """Commit this unit only if field `field` of hash `key` holds `value` ("" for
        absent) at commit time; otherwise nothing of it is written and its events are
        handled again at once (their handler rereads what it relied on)."""
        self.commands.append(("EXPECT", key, field, value))

    def __len__(self) -> int:
        return len(self.commands)
