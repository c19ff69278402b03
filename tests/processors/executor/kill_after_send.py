"""`eaflow` whose broker sessions SIGKILL their process right after an `order_send`.

The crash test's fault, armed from the test side: the test starts its doomed worker as

    python tests/processors/executor/kill_after_send.py worker orders --redis URL ...

instead of `python -m eaflow worker orders ...`. The trade server has executed the order
and the worker dies before it records the result and acks: the worst moment for
effectively-once execution. eaflow itself has no fault hook: nothing an operator sets
(environment, flags, settings) reaches this code.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
"""The repository whose eaflow runs: this file's own checkout."""


def arm() -> None:
    """Every broker session this process opens kills it once its `order_send` returned."""
    from brokers.mt5.broker import Mt5Broker
    from brokers.mt5.records import OrderSendResult
    from brokers.types import TradeRequest

    opened = Mt5Broker.__init__

    def __init__(self: Mt5Broker, *args: Any, **kwargs: Any) -> None:
        opened(self, *args, **kwargs)
        send = self.order_send  # the session's own, as the executor would call it

        async def order_send(request: TradeRequest) -> OrderSendResult | None:
            sent = await send(request)
            os.kill(os.getpid(), signal.SIGKILL)  # no result, no ack, no cleanup
            return sent

        setattr(self, "order_send", order_send)  # noqa: B010  # mypy: a method, replaced

    setattr(Mt5Broker, "__init__", __init__)  # noqa: B010


if __name__ == "__main__":
    sys.path[0] = str(ROOT)  # import the repository's packages, not this folder's modules
    arm()
    runpy.run_module("eaflow", run_name="__main__", alter_sys=True)  # `python -m eaflow`
