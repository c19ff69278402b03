"""Identifiers: time-ordered ids for signals and results, typed where mixing them costs money."""

from __future__ import annotations

import os
import time
from typing import NewType

SignalId = NewType("SignalId", str)
OrderId = NewType("OrderId", str)
InstanceId = NewType("InstanceId", str)
Ticket = NewType("Ticket", int)


def new_id() -> str:
    """A 26-character, time-ordered, random id (milliseconds + 80 random bits, hex)."""
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(7).hex()}"
