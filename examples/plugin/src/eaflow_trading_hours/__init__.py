"""An eaflow plugin: signals outside trading hours are rejected before they reach the router."""

from eaflow.plugins import Plugin
from eaflow_trading_hours.gate import inbox_name, install

plugin = Plugin(
    install=install,
    reads=(inbox_name(),),
    writes=("rtss", "rtrs"),
    description="rejects signals created outside trading hours (EAFLOW_TRADING_HOURS, UTC)",
    start="all",  # its inbox is written for it alone: what waits there was sent for it
)

__all__ = ["plugin"]
