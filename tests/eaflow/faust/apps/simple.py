"""After faust's stress app `simple` (tests/stress/tests/simple): withdrawals, a Record
model, produced by the app's `produce` command and counted by an agent (per partition,
in a table, so the count is read back from its changelog)."""

from __future__ import annotations

import random
from typing import Any

import faust
from faust.cli import option
from faust.types import StreamT

from tests.eaflow.faust.apps.common import create_app

app = create_app("stress-simple")


class Withdrawal(faust.Record, serializer="json"):
    user: str
    country: str
    amount: float


withdrawals = app.topic("stress-withdrawals", value_type=Withdrawal)
received = app.Table("received", default=int)


@app.agent(withdrawals)
async def track_user_withdrawal(stream: StreamT[Any]) -> None:
    async for event in stream.events():
        assert isinstance(event.value, Withdrawal)
        received[event.message.partition] += 1


@app.command(option("--count", type=int, default=1000))
async def produce(self: Any, count: int) -> None:
    for _ in range(count):
        user = f"user_{random.randrange(500)}"
        value = Withdrawal(user=user, country="country_0", amount=random.uniform(0, 25_000))
        await withdrawals.send(key=user, value=value)
    await app.producer.flush()
