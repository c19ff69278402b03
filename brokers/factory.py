"""Brokers chosen by URL scheme: `sim://` (the simulator), `mt5://` (a real terminal)."""

from __future__ import annotations

from urllib.parse import urlparse

import redis

from brokers.mt5.broker import Mt5Broker


class MissingExtra(RuntimeError):
    """An optional dependency is not installed; the message says how to install it."""


def broker_for(url: str, instance: str, login: int, redis_url: str, prefix: str) -> Mt5Broker:
    """A broker session for one instance. `sim://` accounts live in Redis, like a server's."""
    parsed = urlparse(url)
    if parsed.scheme == "sim":
        from brokers.sim.terminal import SimTerminal

        terminal = SimTerminal(redis.Redis.from_url(redis_url), prefix=prefix)
        return Mt5Broker(terminal, name=instance, login=login, server="eaflow-sim")
    if parsed.scheme == "mt5":
        try:
            import MetaTrader5
        except ImportError as error:
            raise MissingExtra(
                "the MetaTrader5 package runs on Windows only: pip install 'eaflow[mt5]'"
            ) from error
        return Mt5Broker(MetaTrader5, name=instance, login=login)
    raise ValueError(f"broker: unknown scheme {parsed.scheme!r} in {url!r} (use sim:// or mt5://)")
