"""The runtime's exceptions: what is not worth retrying."""

from __future__ import annotations


class Poison(Exception):
    """An entry that can never be handled: it goes to the DLQ at once, without retries.

    Raise it from a handler with the field and the rule, e.g. ``Poison("volume: must be > 0")``.
    """


class DecodeError(Poison):
    """An entry's bytes do not decode to the topic's value type."""
