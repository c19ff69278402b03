"""The runtime's exceptions: what is not worth retrying, and what must wait."""

from __future__ import annotations


class Poison(Exception):
    """An entry that can never be handled: it goes to the DLQ at once, without retries.

    Raise it from a handler with the field and the rule, e.g. ``Poison("volume: must be > 0")``.
    """


class DecodeError(Poison):
    """An entry's bytes do not decode to the topic's value type."""


class Defer(Exception):
    """An entry that cannot be handled yet (its broker is away): it stays pending, with the
    later entries of its stream behind it, and is handled again after `after` seconds.

    Not a failure: it is not counted towards `max_deliveries` and never dead-lettered, and
    the agent's other streams go on meanwhile. E.g. ``Defer(5.0, "broker unavailable")``.
    """

    def __init__(self, after: float, reason: str = "") -> None:
        if not after > 0:
            raise ValueError(f"after: must be positive, got {after}")
        super().__init__(reason)
        self.after = after
