"""The simulated MT5 broker: a trade server on Redis and a MetaTrader5-shaped terminal."""

from brokers.sim.server import SimServer
from brokers.sim.terminal import SimTerminal

__all__ = ["SimServer", "SimTerminal"]
