"""The simulated MT5 broker: a trade server on Redis and a MetaTrader5-shaped terminal, which
also serves as the `MetaTrader5` module itself (`mt5_module`, docs/mt5.md)."""

from brokers.sim.module import mt5_module
from brokers.sim.server import SimServer
from brokers.sim.terminal import SimTerminal

__all__ = ["SimServer", "SimTerminal", "mt5_module"]
