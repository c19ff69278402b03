"""The order rate limit: how many new orders an instance may send per minute.

Counted where orders are sent: one executor at a time serves an instance's stream, so
its count is the instance's count (it starts again from zero when the executor restarts).
"""

from __future__ import annotations

from collections import deque

from processors.rules import Refusal

WINDOW = 60.0  # seconds


class OrderRate:
    """A sliding one-minute window of admitted orders per instance."""

    def __init__(self, window: float = WINDOW) -> None:
        self.window = window
        self._admitted: dict[str, deque[float]] = {}

    def admit(self, instance: str, limit: int | None, now: float) -> None:
        """Count the order, or raise Refusal when `limit` orders were admitted this minute."""
        times = self._admitted.setdefault(instance, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if limit is not None and len(times) >= limit:
            raise Refusal(
                "order_rate_limit",
                f"{len(times)} orders in the last {self.window:g} s reach the limit of {limit}",
            )
        times.append(now)
