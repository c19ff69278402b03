"""After faust's stress app `forwarder`: the leader's numbers go to `process`, which
forwards each to `check` on the same partition; `check` finds duplicates and gaps."""

from __future__ import annotations

from typing import Any

from faust.types import StreamT

from tests.eaflow.faust.apps.common import create_app
from tests.eaflow.faust.apps.sequences import checked, leader_sends

app = create_app("stress-forwarder", broker_commit_every=100)
checks = app.Table("checks", default=dict)


@app.agent(value_type=int)
async def process(numbers: StreamT[Any]) -> None:
    async for event in numbers.events():
        await check.send(value=event.value, partition=event.message.partition)


@app.agent(value_type=int)
async def check(forwarded: StreamT[Any]) -> None:
    async for event in forwarded.events():
        partition = event.message.partition
        checks[partition] = checked(checks.get(partition), event.value)


leader_sends(app, process)
