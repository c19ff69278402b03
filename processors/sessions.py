"""The broker sessions of one process, by instance: one owner, so none is lost or closed twice.

The executor trades through `sessions[instance]` (always the current session); the instance
manager opens a new session, swaps it in and stops instances; the process closes them all
at shutdown. A stopped instance answers with `StoppedBroker`, whose calls are refused as
unavailable, so its orders wait instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import structlog

from brokers.mt5.broker import Mt5Broker
from brokers.types import Broker
from processors.manager.stopped import StoppedBroker

log = structlog.get_logger(__name__)


class Sessions(Mapping[str, Broker]):
    """Instance → its current broker session (a `StoppedBroker` while stopped)."""

    def __init__(self) -> None:
        self._current: dict[str, Broker] = {}
        self._open: dict[str, Mt5Broker] = {}

    def __getitem__(self, instance: str) -> Broker:
        return self._current[instance]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current)

    def __len__(self) -> int:
        return len(self._current)

    def opened(self, instance: str) -> Mt5Broker | None:
        """The instance's open session, if any."""
        return self._open.get(instance)

    def put(self, instance: str, session: Mt5Broker) -> Mt5Broker | None:
        """Trade through `session` from now on; returns the session it replaces, for the
        caller to close once nothing uses it."""
        old = self._open.get(instance)
        self._current[instance] = self._open[instance] = session
        return None if old is session else old

    def stop(self, instance: str) -> Mt5Broker | None:
        """Refuse the instance's orders as unavailable; returns its session to close."""
        self._current[instance] = StoppedBroker(instance)
        return self._open.pop(instance, None)

    async def close(self) -> None:
        """Close every open session (at shutdown); a broken one is logged, not raised."""
        for instance, session in list(self._open.items()):
            await close_session(session)
            self._open.pop(instance, None)


async def close_session(session: Mt5Broker) -> None:
    """Close one session; a broken terminal may fail to shut down, and is gone anyway."""
    try:
        await session.close()
    except Exception as error:
        log.warning("broker_close_failed", broker=session.name, error=str(error))
