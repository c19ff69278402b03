"""The `trading-hours` processor: forwards signals from its inbox to `rtss` during trading
hours, and turns the others into `rejected` results."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from eaflow_trading_hours.hours import TradingHours
from model import OrderStatus, Result, Signal
from streams import Event, JsonCodec, Outbox, Topic

if TYPE_CHECKING:
    from eaflow.install.pipeline import Pipeline

DEFAULT_HOURS = "sun 22:00-24:00, mon-thu 00:00-24:00, fri 00:00-22:00"
DEFAULT_INBOX = "rtss:in"


def inbox_name() -> str:
    """The stream the gate reads (without prefix): `EAFLOW_TRADING_HOURS_INBOX`."""
    return os.environ.get("EAFLOW_TRADING_HOURS_INBOX", DEFAULT_INBOX)


class HoursGate:
    """Judges a signal by its `created_at`, the moment the alert fired, so a signal that
    waited in a stream is judged by when it was sent, not when it was read."""

    def __init__(self, hours: TradingHours, rtss: Topic[Any], rtrs: Topic[Result]) -> None:
        self.hours = hours
        self.rtss = rtss
        self.rtrs = rtrs

    async def handle(self, event: Event[Any], out: Outbox) -> None:
        try:
            signal = Signal.model_validate(event.value)
        except ValidationError:
            out.send(self.rtss, event.value)  # the router refuses it, naming the field
            return
        if self.hours.is_open(signal.created_at):
            out.send(self.rtss, event.value)
            return
        out.send(
            self.rtrs,
            Result(
                result_id=f"{signal.effective_order_id}@*",
                order_id=signal.effective_order_id,
                signal_id=signal.signal_id,
                instance="*",
                action=signal.action,
                symbol=signal.symbol,
                status=OrderStatus.REJECTED,
                field="created_at",
                error=f"created_at: outside trading hours ({self.hours.spec} UTC)",
                source=signal.source,
                received_at=signal.created_at,
            ),
        )


async def install(p: Pipeline) -> None:
    """Installer of the `trading-hours` worker (entry point group eaflow.processors)."""
    hours = TradingHours.parse(os.environ.get("EAFLOW_TRADING_HOURS", DEFAULT_HOURS))
    inbox = p.app.topic(inbox_name(), codec=JsonCodec())
    gate = HoursGate(hours, p.topics.rtss, p.topics.rtrs)
    p.app.agent(inbox, group="trading-hours")(gate.handle)
    p.running.append(f"trading-hours: {inbox.name} → rtss within {hours.spec} UTC, else rtrs")
