"""The broker of a stopped instance: every call is refused as unavailable.

The executor treats an unavailable broker as "wait and retry": an order sent before the
stop is looked up again after the restart, an unsent one fails after its time to live,
and nothing reaches the account meanwhile. The refused calls are read off the `Broker`
protocol, so a call added there is refused here without restating its signature.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn

from brokers.types import Broker, BrokerUnavailable

BROKER_CALLS = frozenset(
    name for name, member in vars(Broker).items() if inspect.iscoroutinefunction(member)
)
"""The coroutine methods of the `Broker` protocol (`connect`, `order_send`, ...)."""


class StoppedBroker:
    """Stands in for an instance's broker while an operator has it stopped.

    `close` has nothing to close and `last_error` says why; every other `Broker` call raises
    BrokerUnavailable.
    """

    def __init__(self, instance: str) -> None:
        self.instance = instance

    async def close(self) -> None:
        return None

    async def last_error(self) -> tuple[int, str]:
        return (-10004, f"instance {self.instance} is stopped")

    def __getattr__(self, name: str) -> Callable[..., Coroutine[Any, Any, NoReturn]]:
        if name not in BROKER_CALLS:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self._refuse

    async def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise BrokerUnavailable(f"instance {self.instance} is stopped (eaflow instances start)")
