"""After faust's stress app `tables`: the leader's numbers go to `process`, which keeps the
last number of each partition in a table and compares each new one with it."""

from __future__ import annotations

from typing import Any

from faust.types import StreamT

from tests.eaflow.faust.apps.common import create_app
from tests.eaflow.faust.apps.sequences import checked, leader_sends

app = create_app("stress-tables", broker_commit_every=100)
table = app.Table("counted", default=dict)


@app.agent(value_type=int)
async def process(numbers: StreamT[Any]) -> None:
    async for event in numbers.events():
        partition = event.message.partition
        table[partition] = checked(table.get(partition), event.value)


leader_sends(app, process)
