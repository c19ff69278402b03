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
    """Every terminal this process opens kills it once its `order_send` returned: the order
    path sends through `Terminal` (on a real terminal's thread, or inline on an account the
    executor holds in memory)."""
    from brokers.mt5.records import OrderSendResult
    from brokers.mt5.terminal import Terminal

    send = Terminal.order_send

    def order_send(self: Terminal, request: dict[str, Any]) -> OrderSendResult | None:
        sent = send(self, request)
        os.kill(os.getpid(), signal.SIGKILL)  # no result, no ack, no cleanup
        return sent

    setattr(Terminal, "order_send", order_send)  # noqa: B010  # mypy: a method, replaced


if __name__ == "__main__":
    sys.path[0] = str(ROOT)  # import the repository's packages, not this folder's modules
    arm()
    runpy.run_module("eaflow", run_name="__main__", alter_sys=True)  # `python -m eaflow`
