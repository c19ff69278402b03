"""Contract fixtures: the adapter (`Mt5Broker`) over the simulator's MetaTrader5-shaped facade."""

from tests.stubs import broker, server, terminal

__all__ = ["broker", "server", "terminal"]
