"""StoppedBroker: every call of the Broker protocol is refused, whatever is added to it."""

from __future__ import annotations

import pytest

from brokers.types import Broker, BrokerUnavailable
from processors.manager.stopped import BROKER_CALLS, StoppedBroker


async def test_every_broker_call_but_close_and_last_error_is_refused() -> None:
    broker: Broker = StoppedBroker("a")
    assert {"connect", "order_send", "positions_get", "history_deals_get"} <= BROKER_CALLS
    for name in sorted(BROKER_CALLS - {"close", "last_error"}):
        with pytest.raises(BrokerUnavailable, match="instance a is stopped"):
            await getattr(broker, name)()
    await broker.close()  # nothing to close: no error
    assert await broker.last_error() == (-10004, "instance a is stopped")


def test_names_outside_the_protocol_are_missing_attributes() -> None:
    with pytest.raises(AttributeError, match="symbols"):
        StoppedBroker("a").symbols  # noqa: B018  # Mt5Broker's own addition, not Broker's
