"""FAULT INJECTION FOR CRASH TESTS ONLY: `EAFLOW_FAULT=kill-after-send` in a worker's environment.

Tests start `eaflow worker orders` with it to prove recovery from the worst moment: the trade
server executed the order, but the worker dies (SIGKILL) before it records the result and acks.
It is read once, when the executors are installed, and only wraps the brokers then; without the
variable nothing here runs and the order path is untouched.
"""

from __future__ import annotations

import os
import signal

from brokers.mt5.broker import Mt5Broker
from brokers.mt5.records import OrderSendResult
from brokers.types import TradeRequest

VARIABLE = "EAFLOW_FAULT"
KILL_AFTER_SEND = "kill-after-send"


def inject(broker: Mt5Broker) -> Mt5Broker:
    """The broker itself, or a copy that kills the process after the first `order_send`."""
    fault = os.environ.get(VARIABLE)
    if not fault:
        return broker
    if fault != KILL_AFTER_SEND:
        raise ValueError(f"{VARIABLE}: unknown fault {fault!r} (known: {KILL_AFTER_SEND})")
    return KillAfterSend(broker)


class KillAfterSend(Mt5Broker):
    """Sends the request, then SIGKILLs its own process: no result, no ack, no cleanup."""

    def __init__(self, inner: Mt5Broker) -> None:
        super().__init__(inner.module, inner.name, inner.path, **inner.login)

    async def order_send(self, request: TradeRequest) -> OrderSendResult | None:
        sent = await super().order_send(request)
        os.kill(os.getpid(), signal.SIGKILL)
        return sent
