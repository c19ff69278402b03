"""What a broker raises when it cannot be reached: the executor defers, never fails, on it."""

from __future__ import annotations


class BrokerUnavailable(ConnectionError):
    """The terminal or the trade server cannot be reached right now; retry later."""
