"""What the stress apps `forwarder` and `tables` share: the leader sends 0, 1, 2, … to each
partition (FAUST_TEST_COUNT numbers each); a check per partition records the last number,
how many arrived, and duplicates and gaps (stress' `found_duplicates`/`found_gaps`)."""

from __future__ import annotations

import os
from typing import Any

import faust

COUNT = int(os.environ.get("FAUST_TEST_COUNT", "300"))


def leader_sends(app: faust.App, target: Any) -> None:
    @app.task  # type: ignore[untyped-decorator]
    async def send_numbers() -> None:
        while not app.is_leader():
            await app.sleep(0.2)
            if app.should_stop:
                return
        for number in range(COUNT):
            for partition in range(app.conf.topic_partitions):
                await target.send(value=number, partition=partition)


def checked(previous: dict[str, int] | None, number: int) -> dict[str, int]:
    """The check of a partition after `number` arrived."""
    state = dict(previous or {"last": -1, "count": 0, "duplicates": 0, "gaps": 0})
    if number <= state["last"]:
        state["duplicates"] += 1
    elif number != state["last"] + 1:
        state["gaps"] += 1
    state["last"] = max(state["last"], number)
    state["count"] += 1
    return state
